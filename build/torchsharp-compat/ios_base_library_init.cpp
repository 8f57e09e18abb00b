// Defines std::ios_base_library_init(), the one GLIBCXX_3.4.32 symbol libLibTorchSharp.so uses.
// GCC 13 emits a call to it from every translation unit that includes <iostream>, to make sure the
// standard streams are constructed; constructing an ios_base::Init does exactly that on older libstdc++.
#include <ios>

namespace std
{
    void ios_base_library_init()
    {
        static ios_base::Init init;
    }
}
