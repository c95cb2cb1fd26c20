# cml with Chromium's headless shell and fonts for plots.
#   docker build -t cml .                                          CPU image (Python 3.11 slim)
#   docker build --build-arg EXTRAS=bench -t cml:bench .           + TFLite conversion and benchmarks
#   docker build --build-arg BASE=nvidia/cuda:12.6.3-runtime-ubuntu24.04 -t cml:gpu .
#                                                                  GPU image on the CUDA runtime (Python 3.12
#                                                                  from Ubuntu; Ubuntu packages no Chromium, so
#                                                                  plots need BROWSER_PATH there)
#   docker buildx build --platform linux/amd64,linux/arm64 -t cml .
# BASE may be any Debian/Ubuntu image with apt; Python >= 3.11 is installed from apt when it has none.
# pip honours the PIP_INDEX_URL / PIP_FIND_LINKS / PIP_NO_INDEX build args (a mirror, or pre-built wheels
# served over HTTP: see image/build-local.sh). Every dependency is pinned by constraints.txt.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ARG EXTRAS=""
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/cml/bin:$PATH

COPY image/install.sh image/entrypoint.sh /usr/local/lib/cml/
COPY pyproject.toml README.md LICENSE constraints.txt /src/
COPY cml /src/cml
# cml/runner/scripts links to ../../runners: the host scripts ship in the package (cml runner).
COPY runners /src/runners
RUN sh /usr/local/lib/cml/install.sh /src "$EXTRAS" && rm -rf /src

# OCI labels (after the install, so a new version reuses its layers). The release workflow passes all
# three build args (.github/workflows/release.yml); a local build says "dev".
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/OWNER/cml
LABEL org.opencontainers.image.title="cml" \
      org.opencontainers.image.description="Continuous machine learning in GitHub Actions and GitLab CI" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

ENTRYPOINT ["/usr/local/lib/cml/entrypoint.sh"]
CMD ["--help"]
