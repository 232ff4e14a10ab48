// ITD_ADDRESS_SANITIZER is defined when building with AddressSanitizer (GCC or Clang): memory
// caches then use the heap directly, so that a use after free is still caught.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define ITD_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ITD_ADDRESS_SANITIZER 1
#endif
#endif
