using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Distill.Core.Configuration;

/// <summary>
/// The one spelling of enum values outside the code: kebab-case (<c>top-k-exact</c>, <c>dual-ascent</c>), as flags,
/// configuration, <c>run.json</c> and reports write them. Reading also accepts the C# names (<c>TopKExact</c>) and
/// snake case, which files of earlier versions hold, and any <see cref="AlsoSpelledAttribute"/> of a value.
/// </summary>
public static class KebabCaseEnum
{
    public static string Spelling<TEnum>(TEnum value) where TEnum : struct, Enum => Spelling(typeof(TEnum), value);

    public static string Spelling(Type type, object value) => JsonNamingPolicy.KebabCaseLower.ConvertName(Enum.GetName(type, value) ?? value.ToString()!);

    /// <summary>Every value's spelling, in declaration order.</summary>
    public static IReadOnlyList<string> Spellings<TEnum>() where TEnum : struct, Enum => Spellings(typeof(TEnum));

    public static IReadOnlyList<string> Spellings(Type type) => [.. Enum.GetValues(type).Cast<object>().Select(value => Spelling(type, value))];

    public static bool TryParse<TEnum>(string? text, out TEnum value) where TEnum : struct, Enum
    {
        if (TryParse(typeof(TEnum), text, out var parsed))
        {
            value = (TEnum)parsed;
            return true;
        }
        value = default;
        return false;
    }

    public static bool TryParse(Type type, string? text, out object value)
    {
        var key = Key(text);
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var aliases = field.GetCustomAttributes<AlsoSpelledAttribute>().Select(alias => Key(alias.Spelling));
            if (Key(field.Name) == key || aliases.Contains(key))
            {
                value = field.GetValue(null)!;
                return true;
            }
        }
        value = null!;
        return false;
    }

    // Numbers are not accepted: an enum's integer value is no spelling anyone types.
    private static string Key(string? text) => (text ?? "").Trim().Replace("-", "").Replace("_", "").ToLowerInvariant();
}

/// <summary>Another spelling an enum value is read from (a name of an earlier version); it is never written.</summary>
[AttributeUsage(AttributeTargets.Field, AllowMultiple = true)]
public sealed class AlsoSpelledAttribute(string spelling) : Attribute
{
    public string Spelling { get; } = spelling;
}

/// <summary>
/// Lets configuration binding read kebab-case enum values (the binder asks the type's converter). Put on an enum as
/// <c>[TypeConverter(typeof(KebabCaseEnumConverter))]</c>.
/// </summary>
public sealed class KebabCaseEnumConverter(Type type) : EnumConverter(type)
{
    public override object ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        value is string text
            ? KebabCaseEnum.TryParse(EnumType, text, out var parsed)
                ? parsed
                : throw new FormatException($"'{text}' is not one of {string.Join("|", KebabCaseEnum.Spellings(EnumType))}.")
            : base.ConvertFrom(context, culture, value)!;

    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        destinationType == typeof(string) && value is not null && value.GetType() == EnumType
            ? KebabCaseEnum.Spelling(EnumType, value)
            : base.ConvertTo(context, culture, value, destinationType);
}

/// <summary>Writes an enum in kebab-case; reads every spelling <see cref="KebabCaseEnum.TryParse{TEnum}"/> accepts.</summary>
public sealed class KebabCaseEnumJsonConverter<TEnum> : JsonConverter<TEnum> where TEnum : struct, Enum
{
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && KebabCaseEnum.TryParse<TEnum>(reader.GetString(), out var value)
            ? value
            : throw new JsonException($"expected one of {string.Join("|", KebabCaseEnum.Spellings<TEnum>())}.");

    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options) =>
        writer.WriteStringValue(KebabCaseEnum.Spelling(value));
}
