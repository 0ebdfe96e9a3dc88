# Two commands are all a newcomer needs: `make grade` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ASSIGNMENT ?=
SUBMISSIONS ?=
OUT ?= out
ASSIGNMENTS := gates rnn_linear rnn_bptt lstm two_layer
# Every dependency, pinned with hashes: `make` installs exactly these (see docs/development.md, "Dependencies").
LOCK := requirements.lock
UV_VERSION := 0.13.10
UV := $(VENV)/uv/bin/uv

.PHONY: help setup test grade assignments bench mutants docs lock translations clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(LOCK)
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing bubblewrap for full isolation (apt-get)"; \
	    { apt-get update -qq >/dev/null && apt-get install -y -qq bubblewrap >/dev/null; } \
	      || echo "warning: could not install bubblewrap: reduced isolation"; \
	  else \
	    echo "warning: bubblewrap (bwrap) is missing: grading runs with reduced isolation." \
	         "Install the 'bubblewrap' package for full isolation."; \
	  fi; }
	@{ ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | grep -q 'libseccomp\.so\.2' || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing libseccomp2 for contained isolation (apt-get)"; \
	    { apt-get update -qq >/dev/null && apt-get install -y -qq libseccomp2 >/dev/null; } \
	      || echo "warning: could not install libseccomp2: no contained isolation"; \
	  else \
	    echo "warning: libseccomp (libseccomp.so.2) is missing: where bubblewrap cannot start," \
	         "grading runs with reduced isolation. Install the 'libseccomp2' package."; \
	  fi; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	@# the distribution was called grader before it became backprop-grader: a .venv of then
	@# holds it still (and `grader` on PyPI is another project): remove it, quietly if absent
	@$(PY) -m pip uninstall --quiet --yes grader >/dev/null 2>&1 || true
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the project with its test extra

# The grader's own modules compiled ahead (only what changed): where PYTHONDONTWRITEBYTECODE is
# set, as in many CI images, Python would otherwise compile them again at every start
# (~60 ms of the ~0.35 s one submission takes, and of every sandbox worker's start).
BYTECODE = $(PY) -m compileall -q grader reference bench

test: $(STAMP) ## Run the whole test suite
	$(BYTECODE)
	$(PY) -m pytest

grade: $(STAMP) ## Grade the bundled samples into out/ (or ASSIGNMENT=x SUBMISSIONS=dir OUT=dir)
	@$(BYTECODE)
ifeq ($(ASSIGNMENT),)
	@for a in $(ASSIGNMENTS); do \
	  $(PY) -m grader grade $$a assignments/$$a/samples --out $(OUT)/$$a || exit 1; \
	done
else
	$(PY) -m grader grade $(ASSIGNMENT) $(SUBMISSIONS) --out $(OUT)
endif

assignments: $(STAMP) ## Regenerate student notebooks, samples and public case data from the references
	$(PY) -m grader build $(ASSIGNMENTS)

bench: $(STAMP) ## Throughput with full isolation vs executing notebooks in a Jupyter kernel
	$(BYTECODE)
	$(PY) -m bench

mutants: $(STAMP) ## Detection power: grade each catalogue of realistic mistakes and correct variants
	$(PY) -m grader mutants

# The documentation site (docs/, mkdocs.yml; MkDocs with the Material theme), strict: a warning,
# a broken link or anchor included, fails the build. Built into a fresh temporary folder (or
# DOCS_OUT=dir), never into the checkout; site/, mkdocs' own default, is git-ignored.
docs: $(STAMP) ## Build the documentation site, strict, into a temporary folder (DOCS_OUT=dir)
	@out="$${DOCS_OUT:-$$(mktemp -d)}"; \
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --clean --site-dir "$$out" \
	  && echo "docs: $$out/index.html"

# uv resolves; it lives in a venv of its own inside .venv, never among the project's packages.
# The pins already in requirements.lock are kept; UPGRADE=1 moves every one to the newest release.
lock: ## Pin the dependencies pyproject.toml declares into requirements.lock (UPGRADE=1: newest)
	@test -x $(UV) || { $(PYTHON) -m venv $(VENV)/uv && $(VENV)/uv/bin/pip install --quiet uv==$(UV_VERSION); }
	$(UV) pip compile pyproject.toml --extra test --extra bench --extra docs --universal --python-version 3.11 \
	  --generate-hashes --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade) -o $(LOCK)

# Student-facing messages are marked with grader.i18n's _()/ngettext()/N_() (and _() in the page
# templates): extract them into the template, merge it into each language's .po (translate the
# new entries there), compile the .mo files the package ships (committed, so a fresh clone and an
# installed wheel need no Babel). A translated assignment has a catalogue of its own words
# (spec.toml, the N_() of cases.py, template.py's paragraphs and comments) in
# assignments/<name>/locale: make that folder to start translating one.
LOCALES := grader/locale
TRANSLATED := ko
PYBABEL := $(VENV)/bin/pybabel
UPDATE := update --init-missing --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
translations: $(STAMP) ## Extract marked messages, update each language's .po, compile the .mo
	$(PYBABEL) extract --no-location --sort-output --project grader --omit-header \
	  -k _ -k ngettext:1,2 -k N_ -F $(LOCALES)/grader.cfg -o $(LOCALES)/grader.pot grader
	for lang in $(TRANSLATED); do \
	  $(PYBABEL) $(UPDATE) -D grader -l $$lang -i $(LOCALES)/grader.pot -d $(LOCALES) || exit 1; \
	done
	$(PYBABEL) compile --statistics -D grader -d $(LOCALES)
	for a in $(patsubst assignments/%/locale,%,$(wildcard assignments/*/locale)); do \
	  $(PYBABEL) extract --no-location --sort-output --project "grader assignment $$a" \
	    --omit-header -k _ -k N_ -F $(LOCALES)/assignments.cfg \
	    -o assignments/$$a/locale/assignment.pot assignments/$$a || exit 1; \
	  for lang in $(TRANSLATED); do \
	    $(PYBABEL) $(UPDATE) -D assignment -l $$lang -i assignments/$$a/locale/assignment.pot \
	      -d assignments/$$a/locale || exit 1; \
	  done; \
	  $(PYBABEL) compile --statistics -D assignment -d assignments/$$a/locale || exit 1; \
	done

clean: ## Remove the virtual environment and outputs
	rm -rf $(VENV) $(OUT) build dist site *.egg-info
