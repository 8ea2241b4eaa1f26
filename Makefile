# Shorthands for the scripts; each installs what is missing.
.PHONY: run test bench bundle demo-cli
run:
	scripts/run.sh
test:
	scripts/test.sh
bench:
	scripts/bench.sh
bundle:
	scripts/bundle.sh
demo-cli:
	scripts/demo-cli.sh
