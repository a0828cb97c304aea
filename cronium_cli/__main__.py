from cronium_cli.main import main

main()
