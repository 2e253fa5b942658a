/* bcryptprimitives.dll for Wine 8, which lacks ProcessPrng: Go's runtime (1.22 and later) loads
 * bcryptprimitives.dll!ProcessPrng at start and exits without it. This DLL implements it with
 * advapi32's SystemFunction036 (RtlGenRandom), which Wine has. Used only by the Wine stage of
 * the tests (scripts/wine-test.sh builds it and copies it into the prefix); never shipped. */
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
