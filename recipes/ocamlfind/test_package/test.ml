let () =
  let words = Str.split (Str.regexp "[ \t]+") "uktoolchain  ocamlfind test" in
  let t = Thread.create (fun () -> ignore (Unix.getpid ())) () in
  Thread.join t;
  print_endline (String.concat "," words)
