(* Adler-32 in OCaml, to check the C library's result against. *)
let adler32 s =
  let a = ref 1 and b = ref 0 in
  String.iter (fun c -> a := (!a + Char.code c) mod 65521; b := (!b + !a) mod 65521) s;
  (!b lsl 16) lor !a

external sleep_ms : int -> float = "uk_sleep_ms" (* startup.c: solo5_yield + monotonic clock *)

let () =
  print_endline "Hello from OCaml on Solo5!";
  Compiler.report ();
  Printf.printf "C stub: 2.5 * 4 = %g\n%!" (Greeting.scale 2.5 4);
  Printf.printf "CMake C library: norm(3, 4) = %g\n%!" (Ukcalc.norm 3. 4.);
  let text = "uktoolchain" in
  let c = Ukcalc.adler32 text and ocaml = adler32 text in
  Printf.printf "CMake C library: adler32 %S = %08x (%s)\n%!" text c
    (if c = ocaml then "matches OCaml" else Printf.sprintf "OCaml says %08x" ocaml);
  Rustpart.report ();
  Printf.printf "slept 100 ms: %.1f ms by the monotonic clock\n%!" (sleep_ms 100);
  let chunks = List.init 64 (fun i -> Bytes.make 65536 (Char.chr (i land 0xff))) in
  Gc.full_major ();
  Printf.printf "allocated %d KiB and collected\n%!" (List.length chunks * 64);
  exit 7
