# Thin targets over CMake; each one installs what is missing first.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
PYTHON := $(CURDIR)/.venv/bin/python

.PHONY: all setup build demo test fuzz sanitize bench install clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/build.ninja:
	@cmake -S . -B $(BUILD) -G Ninja -DPython_EXECUTABLE=$(PYTHON) $(CMAKE_FLAGS) >/dev/null

build: setup $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/examples/mnist_mlp $(ARGS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Random graphs against NumPy until stopped (Ctrl-C); each new failure becomes a script in fuzz-failures/.
fuzz: build
	@PYTHONPATH=python:$(BUILD)/python HYPATIA_FLAGS=compiledir=$(CURDIR)/$(BUILD)/kernel_cache $(PYTHON) scripts/fuzz.py $(ARGS)

# Every test under AddressSanitizer and UndefinedBehaviorSanitizer (Python's with their runtimes preloaded).
# (intercept_tls_get_addr=0: GCC 12's LeakSanitizer can crash at exit ("Tracer caught signal 11") reading
# the dynamic TLS of libraries loaded with dlopen, as the OpenCL ICD loads PoCL and its LLVM; static TLS,
# stacks and globals are still scanned for leaks. new_delete_type_mismatch=0: clFFT's teardown, which frees
# its plans and their PoCL programs at exit, deletes a derived object through a base of another size; GCC's
# -Wdelete-non-virtual-dtor covers that mistake in Hypatia's own code.)
sanitize: setup
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHYPATIA_SANITIZE=ON -DPython_EXECUTABLE=$(PYTHON) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:intercept_tls_get_addr=0:new_delete_type_mismatch=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# Ratios against NumPy, PyTensor, JAX and PyTorch, measured side by side (installs the peers into .venv).
bench: build
	@bash scripts/setup.sh bench
	@bash bench/run.sh

install: build
	@cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
