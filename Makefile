# Two commands for a fresh machine (see README.md):
#   make lab    install the lessons' packages into .venv and open the course in JupyterLab
#   make test   install the maintainers' tools too and run every test (what CI runs)

# The first of these that is Python 3.11, 3.12 or 3.13 (what TensorFlow 2.21 and the
# pinned packages support together); override with PYTHON=/path/to/python3.12.
PYTHON_CANDIDATES := python3 python3.12 python3.13 python3.11 python
PYTHON ?= $(shell for candidate in $(PYTHON_CANDIDATES); do $$candidate -c \
	'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2> /dev/null \
	&& { echo $$candidate; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
# What `make lab` and `make install` install (NVIDIA GPU: REQUIREMENTS=requirements-gpu.txt)
# and what `make test` installs (requirements.txt plus the tools). Each install leaves a
# stamp named after its file: .venv/.installed-<file>.
REQUIREMENTS ?= requirements.txt
DEV_REQUIREMENTS ?= requirements-dev.txt
STAMP := $(VENV)/.installed-$(notdir $(REQUIREMENTS))
DEV_STAMP := $(VENV)/.installed-$(notdir $(DEV_REQUIREMENTS))
# JupyterLab on this machine only (127.0.0.1, no remote hosts), behind the token that
# Jupyter generates at each start and puts in the address it opens. tests/test_lab.py
# starts this same command line.
LAB_COMMAND = $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 \
	--ServerApp.allow_remote_access=False notebooks/
# The full data directory when it sits beside the clone (as in CI); otherwise the
# loaders use data/ (MNIST) and fetch the other assets when online.
COURSE_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export COURSE_DATA_DIR

.PHONY: install install-dev lab test lint colab-venv results html editions models \
	assignments autograde-timing clean

# Installs one requirement file into .venv. First the TensorFlow build that the file
# does not select goes (switching CPU <-> GPU leaves one); afterwards only this file's
# stamp remains (and the learners' one, which the maintainers' set includes).
$(VENV)/.installed-%: % requirements.txt requirements/common.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.11, 3.12 or 3.13 found (tried" \
		"$(PYTHON_CANDIDATES)). Install one, or name it: make PYTHON=/path/to/python3.12" >&2; \
		exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m scripts.tensorflow_build $<
	$(BIN)/python -m pip install --quiet -r $<
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 \
		--display-name "Python 3 (deep learning for images)" > /dev/null
	rm -f $(VENV)/.installed-*
	touch $@ $(if $(filter $(DEV_REQUIREMENTS),$<),$(VENV)/.installed-requirements.txt)

install: $(STAMP)

install-dev: $(DEV_STAMP)

lab: $(STAMP)
	$(LAB_COMMAND)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m utils.data verify
	COURSE_MODE=smoke MPLBACKEND=Agg $(BIN)/python -m pytest

# A virtual environment that looks like Colab for tests/test_colab.py: Python 3.12, a
# google.colab module, TensorFlow, Keras and the libraries a lesson's setup imports
# preinstalled, and no course package. .ci/run builds it while .venv installs.
COLAB_VENV := build/colab-venv
COLAB_PYTHON ?= $(shell for candidate in python3.12 \
	$${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 /usr/bin/python3.12; do \
	$$candidate -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2> /dev/null \
	&& { echo $$candidate; break; }; done)
COLAB_PACKAGES := $(shell sed -n 's/^\(tensorflow-cpu==[^; ]*\).*/\1/p' requirements.txt) \
	keras numpy matplotlib scipy scikit-learn scikit-image pillow tqdm

colab-venv: $(COLAB_VENV)/.built

$(COLAB_VENV)/.built: requirements.txt requirements/common.txt
	@test -n "$(COLAB_PYTHON)" || { echo "No Python 3.12 found for the Colab look-alike" \
		"(tried python3.12 on PATH, ~/.pyenv/versions/3.12*, /usr/bin/python3.12)." \
		"Install Python 3.12 or name it: make COLAB_PYTHON=/path/to/python3.12 colab-venv" >&2; \
		exit 1; }
	rm -rf $(COLAB_VENV)
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install --quiet -c requirements/common.txt $(COLAB_PACKAGES)
	$(COLAB_VENV)/bin/python -c 'import pathlib, sysconfig; \
		colab = pathlib.Path(sysconfig.get_path("purelib"), "google", "colab"); \
		colab.mkdir(parents=True); \
		(colab / "__init__.py").write_text("# Stands in for Colab in tests/test_colab.py.\n")'
	touch $@

# Runs every lesson headless in cpu mode and writes results/cpu/ (about 45 min on 2 cores).
results: $(DEV_STAMP)
	$(BIN)/python scripts/run_notebooks.py --mode cpu

# The executed course (outputs of the last `make results`) as HTML pages in build/html/.
html: $(DEV_STAMP)
	test -d build/executed/cpu || $(MAKE) results
	$(BIN)/jupyter nbconvert --to html --output-dir build/html build/executed/cpu/*.ipynb
	$(BIN)/python scripts/html_index.py build/html

# The learner editions (notebooks/) and worked solutions (solutions/) from the lesson
# sources in instructor/; run after editing a source.
editions: $(DEV_STAMP)
	$(BIN)/python -m scripts.editions

# utils/models.py, generated from the lesson cells marked `#| export` (the code later
# lessons reuse); run after editing such a cell.
models: $(DEV_STAMP)
	$(BIN)/python -m scripts.export_models

# Student versions (solutions and hidden tests removed), one nbgrader assignment per
# lesson: release/NN_topic/NN_topic.ipynb.
assignments: $(DEV_STAMP)
	$(BIN)/python -m scripts.nbgrader_course release

# Times autograding one submission per lesson (smoke mode) for the README.
autograde-timing: $(DEV_STAMP)
	COURSE_MODE=smoke MPLBACKEND=Agg $(BIN)/python -m scripts.time_autograde

clean:
	rm -rf build release figures .pytest_cache .ruff_cache

# Mutation check of the exercises' hidden tests: wrong answers made from each solution
# (nudged constants, swapped operators, off-by-one indices, wrong axes, ...) go through
# nbgrader's autograder in smoke mode; writes results/mutants.json, which
# tests/test_mutants.py checks. All lessons: about 80 min on 2 shared cores; some:
#   make mutants LESSONS="02_cnn_math 04_mnist_cnn"
.PHONY: mutants
mutants: $(DEV_STAMP)
	COURSE_MODE=smoke MPLBACKEND=Agg $(BIN)/python -m scripts.mutants \
		$(if $(LESSONS),--lessons $(LESSONS))
