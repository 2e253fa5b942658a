/* bcryptprimitives.dll for Wine 8, which lacks ProcessPrng: Go's runtime (1.22 and later) loads
 * bcryptprimitives.dll!ProcessPrng at start and exits without it. This DLL implements it with
 * advapi32's SystemFunction036 (RtlGenRandom), which Wine has. Used only by the CI's Wine stage
 * (.ci/wine-test); never shipped. Build: see Makefile target wine-shim. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
