external norm : float -> float -> float = "uk_calc_norm"
external adler32 : string -> int = "uk_calc_adler32"
