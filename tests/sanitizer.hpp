// tests/sanitizer.hpp — FZ_TEST_ASAN is defined when the test binary is built with
// AddressSanitizer (GCC sets __SANITIZE_ADDRESS__, Clang answers __has_feature). Tests whose
// numbers ASan changes (address-space limits, allocator byte counts) read it.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define FZ_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FZ_TEST_ASAN 1
#endif
#endif
