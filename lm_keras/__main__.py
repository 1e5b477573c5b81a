from lm_keras.cli import main

raise SystemExit(main())
