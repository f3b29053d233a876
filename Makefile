# Plumb: `make run` sets everything up and serves; `make test` sets up and runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app webapp
PORT ?= 5000
WORKERS ?= 2
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/0
# The one stylesheet and one script every page loads, built from npm's packages and our
# own files (frontend/build.mjs; docs/deploy.md#static-files). Never committed.
STATIC_BUILD := static/build
STATIC_SOURCES := $(wildcard frontend/* static/css/*.css static/js/*.js static/favicon.svg)
# What every search engine must pass (webapp/search/engine.py).
SEARCH_CONTRACT := tests/test_search.py tests/test_search_index.py tests/test_search_verdict.py tests/test_search_meaning.py tests/test_graph_suggestions.py

.PHONY: run serve setup static migrate demo lint test test-sqlite test-postgres bench clean

# With the local stand-in for Stripe (webapp/support/standin): pledges go through its
# hosted "Test payment — no money moves" page and come back by signed webhook, as with
# Stripe itself; stopping `make run` stops it too.
STANDIN_PORT ?= 12111
STRIPE_LOCAL := STRIPE_SECRET_KEY=sk_test_plumb_local STRIPE_WEBHOOK_SECRET=whsec_plumb_local
run: setup migrate demo
	@$(STRIPE_LOCAL) $(BIN)/python -m webapp.support.standin --port $(STANDIN_PORT) \
	  --webhook-url http://127.0.0.1:$(PORT)/support/webhooks/stripe & standin=$$!; \
	trap "kill $$standin 2>/dev/null" EXIT INT TERM; \
	$(STRIPE_LOCAL) PAYMENT_PROVIDER=stripe STRIPE_API_BASE=http://127.0.0.1:$(STANDIN_PORT) \
	  SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}" $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The stand-in alone (for a server started otherwise).
.PHONY: standin
standin: setup
	$(STRIPE_LOCAL) $(BIN)/python -m webapp.support.standin --port $(STANDIN_PORT) \
	  --webhook-url http://127.0.0.1:$(PORT)/support/webhooks/stripe

# Production-like: gunicorn with several workers, a secret kept under instance/.
serve: setup migrate demo instance/secret_key
	@# The workers share their rate limits in Redis: one must answer (started here if need be).
	REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}"; \
	$(BIN)/python -m webapp.operations.ratelimits "$$REDIS_URL" && \
	PLUMB_ENV=production SECRET_KEY="$$(cat instance/secret_key)" SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}" \
	  REDIS_URL="$$REDIS_URL" WORKERS=$(WORKERS) BIND=127.0.0.1:$(PORT) \
	  $(BIN)/gunicorn --config gunicorn.conf.py 'webapp:create_app()'

setup: $(VENV)/.installed $(STATIC_BUILD)/manifest.json

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Third-party front-end packages come from npm at set-up and are never committed.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Rebuilt whenever a stylesheet or script changed, with the .br and .gz copies WhiteNoise
# serves. (In development the app also rebuilds an out-of-date build by itself.)
$(STATIC_BUILD)/manifest.json: node_modules/.installed $(STATIC_SOURCES)
	node frontend/build.mjs

static: $(STATIC_BUILD)/manifest.json

instance/secret_key:
	mkdir -p instance
	$(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $@

migrate: setup
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) content import content/demo
	$(FLASK) search sync
	$(FLASK) support demo

test: setup lint test-sqlite test-postgres

lint: setup
	$(BIN)/ruff check webapp tests bench

# The suite runs on every core (pytest-xdist; each worker has its own databases,
# tests/workers.py), a file's tests on one worker. TEST_WORKERS=0: one process.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-sqlite: setup
	$(PYTEST)

# The same suite again against PostgreSQL, where one answers on 127.0.0.1:5432, with
# the rate limits kept in Redis where one answers on 127.0.0.1:6379 (as in production),
# all but the browser tests: they drive the pages the SQLite run already drove in
# chromium (journeys, axe), and every query those pages make is in the route tests that
# run here. Leaving them out keeps CI under 30 minutes on two CPUs.
# tests/service_available.py exits 69 when nothing is there; any other failure is a
# server that answers wrongly, and stops the run.
test-postgres: setup
	@$(BIN)/python -m tests.service_available redis "$(REDIS_TEST_URL)"; found=$$?; \
	if [ $$found = 0 ]; then echo "== rate limits in Redis ($(REDIS_TEST_URL))"; export TEST_REDIS_URL="$(REDIS_TEST_URL)"; \
	elif [ $$found = 69 ]; then echo "== no Redis on 127.0.0.1:6379: rate limits in memory"; \
	else echo "== Redis at $(REDIS_TEST_URL) answers but fails (see above)"; exit 1; fi; \
	$(BIN)/python -m tests.service_available postgres "$(PG_TEST_URL)"; found=$$?; \
	if [ $$found = 0 ]; then \
	  echo "== the suite again against PostgreSQL ($(PG_TEST_URL))"; \
	  TEST_DATABASE_URL="$(PG_TEST_URL)" $(PYTEST) -m "not browser" && \
	  echo "== the search contract again with the Whoosh engine on PostgreSQL" && \
	  TEST_DATABASE_URL="$(PG_TEST_URL)" TEST_SEARCH_ENGINE=whoosh $(PYTEST) $(SEARCH_CONTRACT); \
	elif [ $$found != 69 ]; then echo "== PostgreSQL at $(PG_TEST_URL) answers but fails (see above)"; exit 1; \
	elif [ "$$CI" = "true" ]; then echo "== CI needs PostgreSQL with its search extensions (see above)"; exit 1; \
	else echo "== no PostgreSQL (with unaccent, pg_trgm, rum) on 127.0.0.1:5432: skipping the PostgreSQL run"; fi

bench: setup
	$(BIN)/python bench/answer_page.py
	$(BIN)/python bench/weight.py

# Locust against gunicorn + PostgreSQL + Redis (bench/load.py): EMPTIES the database
# `load` and Redis db 4 first. Shorter: make load LOAD_USERS=20 LOAD_TIME=1m
LOAD_USERS ?= 100
LOAD_TIME ?= 10m
LOAD_ARGS ?=
.PHONY: load
load: setup $(VENV)/.bench-installed
	$(BIN)/python bench/load.py --users $(LOAD_USERS) --time $(LOAD_TIME) --workers $(WORKERS) $(LOAD_ARGS)

$(VENV)/.bench-installed: pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

clean:
	rm -rf $(VENV) node_modules $(STATIC_BUILD) static/vendor .pytest_cache
