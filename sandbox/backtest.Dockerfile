# The image sandboxed backtests run in: a Python 3.11, the libraries strategy code may
# import (numpy, pandas, pydantic, scipy and their dependencies, at exactly the versions
# the host runs, so results are bit-identical) under /opt/alphaloop/site, and the
# strategy contract plus the sandbox's child runtime under /opt/alphaloop/code. Nothing
# else of AlphaLoop, no data, no repository. Containers run as an unprivileged user.
#
# Built by `alphaloop sandbox build [--base IMAGE]`, which prepares the build context:
#   wheels/            the host's versions, downloaded on the host (`pip download`)
#   requirements.txt   exact pins of those versions
#   code/              alphaloop/contract.py and alphaloop_sandbox_child/
# The build itself reaches no registry: wheels install with --no-index.

ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS libraries
COPY wheels/ /tmp/wheels/
COPY requirements.txt /tmp/requirements.txt
# pip runs from its own wheel, so the base image needs no pip
RUN set -e; pip_wheel="$(ls /tmp/wheels/pip-*.whl | head -n 1)"; \
    python3 "$pip_wheel/pip" install --quiet --no-index --find-links /tmp/wheels \
        --no-deps --disable-pip-version-check --no-warn-script-location \
        --target /opt/alphaloop/site -r /tmp/requirements.txt; \
    rm -rf /opt/alphaloop/site/bin

FROM ${BASE_IMAGE}
COPY --from=libraries /opt/alphaloop/site/ /opt/alphaloop/site/
COPY code/ /opt/alphaloop/code/
# one interpreter path whatever the base image calls it; mount points for the sandbox
RUN set -e; ln -sf "$(command -v python3)" /opt/alphaloop/python; \
    mkdir -p /sandbox/checkout /sandbox/scratch; chmod 1777 /sandbox/scratch; \
    chmod -R a+rX /opt/alphaloop
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0 HOME=/sandbox/scratch
WORKDIR /sandbox/checkout
USER 10001:10001
LABEL org.alphaloop.image="backtest"
CMD ["/opt/alphaloop/python"]
