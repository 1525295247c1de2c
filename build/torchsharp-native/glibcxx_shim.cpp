// Defines the one GCC 13 libstdc++ symbol that TorchSharp's native library needs, for hosts with an older libstdc++.
// GCC 13 moved iostream initialisation into libstdc++ and made <iostream> call ios_base_library_init() to pull it in;
// on GCC 12 that initialisation is a static ios_base::Init object per user, so the shim holds one.
#include <ios>

static std::ios_base::Init farm_iostream_init;

extern "C" void _ZSt21ios_base_library_initv() {}
