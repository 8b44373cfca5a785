# The image a merged commit is deployed as: the backtest image plus the strategy checkout
# of that commit, baked in at /sandbox/checkout (read-only at run time, like every path
# of the image). Labels name the commit and the cycle that produced it.
#
# Built by `build_deploy_image` (alphaloop.sandbox.images), which copies the checkout
# (without .git) into the build context as checkout/ and tags the result
# alphaloop-deploy:<the commit's first 12 hex digits>.

ARG BASE_IMAGE=alphaloop-backtest:latest

FROM ${BASE_IMAGE}
ARG COMMIT
ARG CYCLE=""
COPY checkout/ /sandbox/checkout/
LABEL org.alphaloop.image="deploy" \
      org.alphaloop.commit="${COMMIT}" \
      org.alphaloop.cycle="${CYCLE}"
