#!/bin/sh
# Stand-in, on the local Debian base of .ci/cluster.sh, for the run-java.sh of the UBI OpenJDK runtime image that
# operator/src/main/docker/Dockerfile.jvm starts from: the same variables (JAVA_OPTS, JAVA_OPTS_APPEND, JAVA_APP_JAR,
# JAVA_ARGS), no more. The UBI script also derives heap options from the container's limits; the Dockerfile's
# -XX:MaxRAMPercentage=75 does that job here.
exec java ${JAVA_OPTS:-} ${JAVA_OPTS_APPEND:-} -jar "${JAVA_APP_JAR:?JAVA_APP_JAR is not set}" ${JAVA_ARGS:-} "$@"
