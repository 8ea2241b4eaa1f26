# Shorthands for the scripts the README's quick start uses; each installs what is missing.
.PHONY: run test bench
run:
	scripts/run.sh
test:
	scripts/test.sh
bench:
	scripts/bench.sh
