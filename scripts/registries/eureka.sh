#!/usr/bin/env bash
# Provisions a Netflix Eureka server for the Eureka adapter tests: a one-class Spring Boot application with
# spring-cloud-starter-netflix-eureka-server, built with Maven from Maven Central (tens of seconds the first time,
# then cached by version). Standalone (no peers), self-preservation off, and the read-only response cache off so
# /eureka/apps shows a registration at once instead of up to 30 s later. Prints the path of the jar. servers.mjs's
# startEureka passes the properties that make it truly standalone and fresh on the command line
# (eurekaFreshProperties: its own host name, so it is not its own replication peer; no response cache), so a jar
# built before them needs no rebuild.
. "$(dirname "$0")/lib.sh"
BOOT=${EUREKA_BOOT_VERSION:-4.0.7}
CLOUD=${EUREKA_CLOUD_VERSION:-2025.1.4}
DIR=$XDS_REGISTRY_CACHE/eureka-$CLOUD
JAR=$DIR/eureka-server.jar
build() {
  [ -f "$JAR" ] && return
  need mvn eureka
  need java eureka
  say "building the Eureka server (Spring Cloud $CLOUD) with Maven into $DIR"
  mkdir -p "$DIR"
  local src
  src=$(mktemp -d "$XDS_REGISTRY_CACHE/src.XXXXXX")
  mkdir -p "$src/src/main/java/xds/registry" "$src/src/main/resources"
  cat > "$src/pom.xml" <<EOP
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>org.springframework.boot</groupId>
    <artifactId>spring-boot-starter-parent</artifactId>
    <version>$BOOT</version>
    <relativePath/>
  </parent>
  <groupId>xds.registry</groupId>
  <artifactId>eureka-server</artifactId>
  <version>1</version>
  <properties><java.version>17</java.version></properties>
  <dependencyManagement>
    <dependencies>
      <dependency>
        <groupId>org.springframework.cloud</groupId>
        <artifactId>spring-cloud-dependencies</artifactId>
        <version>$CLOUD</version>
        <type>pom</type>
        <scope>import</scope>
      </dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency>
      <groupId>org.springframework.cloud</groupId>
      <artifactId>spring-cloud-starter-netflix-eureka-server</artifactId>
    </dependency>
  </dependencies>
  <build>
    <finalName>eureka-server</finalName>
    <plugins>
      <plugin>
        <groupId>org.springframework.boot</groupId>
        <artifactId>spring-boot-maven-plugin</artifactId>
      </plugin>
    </plugins>
  </build>
</project>
EOP
  cat > "$src/src/main/java/xds/registry/EurekaServer.java" <<'EOJ'
package xds.registry;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.netflix.eureka.server.EnableEurekaServer;

/** A standalone Eureka server for the xds registry tests. */
@SpringBootApplication
@EnableEurekaServer
public class EurekaServer {
  public static void main(String[] args) {
    SpringApplication.run(EurekaServer.class, args);
  }
}
EOJ
  cat > "$src/src/main/resources/application.properties" <<'EOR'
server.address=127.0.0.1
server.port=${PORT:8761}
spring.application.name=xds-test-eureka
eureka.client.register-with-eureka=false
eureka.client.fetch-registry=false
eureka.client.service-url.defaultZone=http://127.0.0.1:${server.port}/eureka/
eureka.instance.hostname=127.0.0.1
eureka.server.enable-self-preservation=false
eureka.server.use-read-only-response-cache=false
eureka.server.response-cache-update-interval-ms=1000
EOR
  (cd "$src" && mvn -B -q -Dmaven.repo.local="$XDS_REGISTRY_CACHE/m2" package -DskipTests >"$src/mvn.log" 2>&1) \
    || { tail -30 "$src/mvn.log" >&2; exit 1; }
  mv "$src/target/eureka-server.jar" "$JAR"
  rm -rf "$src"
}
with_lock "$DIR" build
echo "$JAR"
