# nanoshop's front door. `make dev` serves the whole store locally; `make test` runs every test
# against the real components (it installs and starts them itself).

CARGO ?= cargo
ARCH ?= x86_64

.PHONY: dev test bench lint lambdas fmt clean

## Serve every function, the storefront and the demo catalog at http://127.0.0.1:3000
dev:
	$(CARGO) run --bin nanoshop -- serve

## Run every test: unit, conformance (embedded, DynamoDB Local, moto), S3 (SeaweedFS), end to end
test:
	scripts/test.sh

## Measure binary size, start-up, throughput and DynamoDB round trips; prints a table
bench:
	scripts/bench.sh

## Formatting and lints, as CI would
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Release builds of the Lambda functions (ARCH=arm64 needs the aarch64 target installed)
lambdas:
	pip install --quiet cargo-lambda==1.9.2
	$(CARGO) lambda build --release $(if $(filter arm64,$(ARCH)),--arm64,) --bin catalog

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf .nanoshop
