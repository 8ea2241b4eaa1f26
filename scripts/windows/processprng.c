/* For running Windows binaries under wine 8.0 only (tests, never shipped): Rust's standard
 * library imports ProcessPrng from bcryptprimitives.dll, which Windows 10 and later have and
 * wine 8.0 lacks. This stand-in forwards to RtlGenRandom (advapi32's SystemFunction036),
 * the system random source wine does provide. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
