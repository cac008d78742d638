# nanoshop's front door. `make dev` serves the whole store locally; `make test` runs every test
# against the real components (it installs and starts them itself).

CARGO ?= cargo
ARCH ?= x86_64
# cargo-lambda, SAM CLI and cfn-lint live in this venv (scripts/services.sh tools installs them).
TOOLS := $(or $(NANOSHOP_CACHE),$(HOME)/.cache/nanoshop)/venv/bin
# Every function binary: the [[bin]] names of functions/*/Cargo.toml; and their packages.
FUNCTION_BINS := $(shell sed -n '/^\[\[bin\]\]/,/^name/s/^name *= *"\(.*\)"/\1/p' functions/*/Cargo.toml)
FUNCTION_PACKAGES := $(shell sed -n '/^\[package\]/,/^name/s/^name *= *"\(.*\)"/\1/p' functions/*/Cargo.toml)

.PHONY: dev test test-browser fuzz bench lint lambdas deploy smoke smoke-local throwaway destroy fmt clean

## Serve every function, the storefront and the demo catalog at http://127.0.0.1:3000
dev:
	$(CARGO) run --bin nanoshop -- serve

## Run every test: unit, conformance (embedded, DynamoDB Local, moto), S3 (SeaweedFS), end to end
test:
	scripts/test.sh

## Only the browser tests of the storefront and the merchant console (headless Chromium against nanoshop serve, one of them signing in through a local OpenID provider); screenshots in test-output/screenshots
test-browser:
	scripts/browser.sh install
	tests/oidc/install.sh
	$(CARGO) build --bin nanoshop
	scripts/browser.sh test

## Fuzz the webhook signature/event parsers and the cursor decoder with libFuzzer, then the whole API with Schemathesis, for FUZZ_SECONDS each (default 300)
fuzz:
	scripts/fuzz.sh install
	scripts/apitools.sh install
	scripts/fuzz.sh build
	$(CARGO) build --bin nanoshop
	scripts/fuzz.sh run $(or $(FUZZ_SECONDS),300)
	scripts/apitools.sh fuzz $(or $(FUZZ_SECONDS),300)

## Measure binary size, start-up, throughput and DynamoDB round trips; prints a table
bench:
	scripts/bench.sh

.PHONY: bench-peers
## Only the catalog beside the Python and Node handlers a merchant would deploy instead (bench/peers/), in minutes
bench-peers:
	scripts/bench.sh peers

.PHONY: bench-scale
## Only the catalog at 10,000 and 100,000 products on DynamoDB Local (BENCH_SCALE_SIZES), in about 15 minutes
bench-scale:
	scripts/bench.sh scale

.PHONY: bench-size
## Only the arm64 Lambda packages: each one's zipped size and what the largest holds per crate (tens of minutes here)
bench-size:
	scripts/bench.sh size

## Formatting and lints, as CI would
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Release builds of every function for Lambda, zipped: target/lambda/<bin>/bootstrap.zip (ARCH=arm64 for Graviton); --locked, as sam build (Cargo.toml, [workspace.metadata.lambda.build])
lambdas:
	scripts/services.sh tools
	$(if $(filter arm64,$(ARCH)),rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu)
	# The function packages alone, not --workspace: the `nanoshop` package would turn on the AWS
	# SDK's own HTTPS client, which a Lambda package does without (nanoshop_api::sdk_http).
	PATH="$(TOOLS):$$PATH" $(CARGO) lambda build --release --output-format zip \
	  $(if $(filter arm64,$(ARCH)),--arm64,--x86-64) $(addprefix -p ,$(FUNCTION_PACKAGES)) $(addprefix --bin ,$(FUNCTION_BINS))

## Build every function for arm64 in one `make lambdas`, package and deploy infra/template.yaml with SAM; the first run asks for the stack's settings (docs/deploy.md)
deploy:
	$(MAKE) lambdas ARCH=arm64
	# Packages each function's bootstrap from that build (infra/Makefile); cargo finds it all fresh.
	cd infra && PATH="$(TOOLS):$$PATH" SAM_CLI_TELEMETRY=0 sam build
	cd infra && if grep -q '^stack_name' samconfig.toml; then \
	  PATH="$(TOOLS):$$PATH" SAM_CLI_TELEMETRY=0 sam deploy; else \
	  PATH="$(TOOLS):$$PATH" SAM_CLI_TELEMETRY=0 sam deploy --guided; fi
	# Registers the webhook endpoint at Stripe and stores its signing secret, once (docs/deploy.md).
	stack=$$(sed -n 's/^stack_name *= *"\(.*\)"/\1/p' infra/samconfig.toml); \
	region=$$(sed -n 's/^region *= *"\(.*\)"/\1/p' infra/samconfig.toml); \
	$(TOOLS)/python scripts/connect-stripe.py --stack "$$stack" $${region:+--region "$$region"}

## After a deploy: one real order through STACK, from product to event (docs/deploy.md, "Smoke test"); an admin's ID token in NANOSHOP_ADMIN_TOKEN, or a throw-away stack's own
smoke:
	$(if $(STACK),,$(error set STACK=<stack name>))
	scripts/services.sh tools
	token=$${NANOSHOP_ADMIN_TOKEN:-$$($(TOOLS)/python scripts/throwaway-stack.py token $(STACK))} && \
	  NANOSHOP_ADMIN_TOKEN=$$token $(TOOLS)/python scripts/smoke-test.py --stack $(STACK)

## The same smoke test against a `nanoshop serve` it starts itself, paying through the payment simulator
smoke-local:
	$(CARGO) build --bin nanoshop
	python3 scripts/smoke-test.py --serve "$$($(CARGO) metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/nanoshop"

## Deploy a throw-away stack STACK (its own Cognito pool, Stripe test keys from STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY), as CI's deploy job does
throwaway:
	$(if $(STACK),,$(error set STACK=<stack name>))
	scripts/services.sh tools
	rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	PATH="$(TOOLS):$$PATH" $(TOOLS)/python scripts/throwaway-stack.py up $(STACK)

## Delete a throw-away stack and everything it kept (tables, bucket, keys, its Cognito pool); refuses any other stack
destroy:
	$(if $(STACK),,$(error set STACK=<stack name>))
	scripts/services.sh tools
	$(TOOLS)/python scripts/throwaway-stack.py down $(STACK)

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf .nanoshop
