let () = print_endline (Str.global_replace (Str.regexp "o") "0" "dune test_package: ok")
