from kpictl.cli import main

main()
