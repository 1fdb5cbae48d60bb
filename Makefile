# `make figures`: set up .venv (if missing), compute every chain in parallel (`madlib run`, one one-thread worker
#                 process per core), then regenerate every figure from the store at the default preset.
# `make test`:    same set-up, then unit tests and nbval over every notebook at the smoke preset.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PRESET ?= default
STAMP  := $(VENV)/.installed

.PHONY: figures test unit nbval lab clean install gpu-check

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $(STAMP)

JOBS   ?=
figures: $(STAMP)
	$(BIN)/madlib run --preset $(PRESET) $(if $(JOBS),--jobs $(JOBS))
	$(BIN)/madlib figures --preset $(PRESET)

# The tests use a throw-away run store and write smoke figures under build/smoke/ only.
test: $(STAMP)
	store=$$(mktemp -d) && trap 'rm -rf "$$store"' EXIT && \
	MADLIB_STORE=$$store MADLIB_PRESET=smoke MADLIB_PROGRESS=0 MPLBACKEND=Agg \
	$(BIN)/python -m pytest tests --nbval-lax notebooks -p no:cacheprovider

# `make gpu-check`: on one CUDA GPU (under 8 min), the `paper` UNet DDPM and style GAN on the offline digits: speed,
#                   generation-1 scores, a 2-generation loop through the store (benchmarks/gpu_check.py docstring).
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py

# `make lab`: JupyterLab on notebooks/. .jupyter/ is added to Jupyter's config path: its
#             labconfig/default_setting_overrides.json makes a .py twin open as a notebook (Jupytext Notebook) by
#             default; the pairing itself (saving a notebook rewrites its twin) is notebooks/jupytext.toml.
LAB_CONFIG := $(CURDIR)/.jupyter
lab: $(STAMP)
	JUPYTER_CONFIG_PATH=$(LAB_CONFIG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} $(BIN)/jupyter lab notebooks

clean:
	$(BIN)/madlib clean
