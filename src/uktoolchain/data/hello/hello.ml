let () =
  print_endline "Hello from OCaml on Solo5!";
  Printf.printf "C stub: 2.5 * 4 = %g\n%!" (Greeting.scale 2.5 4);
  let chunks = List.init 64 (fun i -> Bytes.make 65536 (Char.chr (i land 0xff))) in
  Gc.full_major ();
  Printf.printf "allocated %d KiB and collected\n%!" (List.length chunks * 64);
  exit 7
