from secplan.cli.main import main

main()
