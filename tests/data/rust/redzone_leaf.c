/* The red-zone detector's positive control: gcc's x86_64 default (red zone on) keeps this leaf
 * function's array below %rsp without moving it, which the detector must see. */
unsigned long uk_leaf(unsigned long i)
{
    volatile unsigned long a[8];
    for (int k = 0; k < 8; k++)
        a[k] = k * 3 + 1;
    return a[i & 7];
}
