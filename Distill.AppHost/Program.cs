Console.WriteLine("Distill AppHost");
