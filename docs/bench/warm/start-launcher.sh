#!/bin/bash
# Start-up of the embedded launcher (io.jcomet.launcher.Main, 100 front ports): target/classes as a
# directory, the same classes in a jar, the jar with a dynamic AppCDS archive (Java 17) and with the
# AOT cache (Java 25), each archive recorded by one start + round trip + stop first; alternating,
# three starts each. From the repository root, under the benchmark lock:
#   mvn -o -q compile dependency:build-classpath -Dmdep.outputFile=target/launcher-cp.txt -Dmdep.includeScope=compile
#   docs/bench/warm/start-launcher.sh > docs/bench/warm/launcher-start.txt
J17=${J17:-/usr/lib/jvm/java-17-openjdk-amd64}/bin/java; J25=${J25:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
DEPS="$(cat target/launcher-cp.txt)" W=target/start-launcher
mkdir -p $W && rm -f $W/*
"$(dirname "$J17")/jar" --create --file $W/launcher.jar -C target/classes .
OPTS="-XX:+UseSerialGC -Xmn16m -Xmx1g"
ARGS="--host 127.0.0.1 --front-host 127.0.0.1 --admin-port 35000 --front-port 35100 --front-count 100"
st() { local tag=$1; shift; printf '%-28s ' "$tag"; docs/bench/warm/starttime.py $W/$tag.log -- "$@" 2>/dev/null || echo failed; }
st j17-record  $J17 $OPTS -XX:ArchiveClassesAtExit=$W/l17.jsa -Xlog:cds*=error -cp $W/launcher.jar:$DEPS io.jcomet.launcher.Main $ARGS
st j25-record  $J25 $OPTS -XX:AOTCacheOutput=$W/l25.aot -Xlog:aot*=error -Xlog:cds*=error -cp $W/launcher.jar:$DEPS io.jcomet.launcher.Main $ARGS
ls -la $W/l17.jsa $W/l25.aot
for i in 1 2 3; do
  st j17-classes-dir $J17 $OPTS -cp target/classes:$DEPS io.jcomet.launcher.Main $ARGS
  st j17-jar         $J17 $OPTS -cp $W/launcher.jar:$DEPS io.jcomet.launcher.Main $ARGS
  st j17-appcds      $J17 $OPTS -XX:SharedArchiveFile=$W/l17.jsa -cp $W/launcher.jar:$DEPS io.jcomet.launcher.Main $ARGS
  st j25-jar         $J25 $OPTS -cp $W/launcher.jar:$DEPS io.jcomet.launcher.Main $ARGS
  st j25-aot         $J25 $OPTS -XX:AOTCache=$W/l25.aot -cp $W/launcher.jar:$DEPS io.jcomet.launcher.Main $ARGS
done
