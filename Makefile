# Developer shortcuts; CI runs the README's test command (.ci/run), which covers all of this.
.PHONY: check test lint fmt
check: test
test:
	python -m pytest
lint:
	ruff check src tests && ruff format --check src tests && mypy && lint-imports
fmt:
	ruff format src tests && ruff check --fix src tests
