from uktoolchain.cli.main import main

raise SystemExit(main())
