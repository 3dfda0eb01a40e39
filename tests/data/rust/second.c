/* Hard-float C passes x in xmm0/d0 and y in xmm1/d1 and reads the result from xmm0/d0. A soft-float
 * callee reads its arguments from integer registers and returns in rax/x0: xmm0/d0 still holds x,
 * so C sees 1.5 instead of 2.5. Exit 0 only when the ABIs agree. */
#include <stdio.h>
double uk_second(double x, double y);
int main(void)
{
    double r = uk_second(1.5, 2.5);
    printf("uk_second(1.5, 2.5) = %g\n", r);
    return r == 2.5 ? 0 : 1;
}
