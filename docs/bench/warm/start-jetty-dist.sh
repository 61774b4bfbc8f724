#!/bin/bash
# Start-up of bin/jetty-dist (100 front ports) with and without --cds, Java 17 and 25, alternating,
# three starts each after one recording start per JDK. From the repository root, after
# `mvn -q -Pjetty-dist package -DskipTests`, under the benchmark lock:
#   docs/bench/warm/start-jetty-dist.sh > docs/bench/warm/start-jetty-dist.txt
J17=${J17:-/usr/lib/jvm/java-17-openjdk-amd64}; J25=${J25:-/usr/lib/jvm/temurin-25-jdk-amd64}
P="jetty.http.port=35000 jcomet.front.port=35100"
dir=target/cds-start logs=target/start-logs
mkdir -p $logs
st() { local tag=$1 jh=$2; shift 2; printf '%-12s ' "$tag"; JAVA_HOME=$jh docs/bench/warm/starttime.py $logs/jd-$tag.log -- "$@" 2>/dev/null || echo failed; }
rm -rf $dir
st j17-record $J17 bin/jetty-dist --no-build --cds-dir $dir $P
st j25-record $J25 bin/jetty-dist --no-build --cds-dir $dir $P
for i in 1 2 3; do
  st j17 $J17 bin/jetty-dist --no-build $P
  st j17-cds $J17 bin/jetty-dist --no-build --cds-dir $dir $P
  st j25 $J25 bin/jetty-dist --no-build $P
  st j25-aot $J25 bin/jetty-dist --no-build --cds-dir $dir $P
done
grep -h "jetty-dist: --cds" $logs/jd-*.log | sed 's/ into .*//; s/archive .*\//archive /' | sort | uniq -c
