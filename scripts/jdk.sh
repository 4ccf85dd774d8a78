# Sourced by ./memcrypt and .ci/run: sets JAVA_HOME to a JDK 25 or newer, or explains what to install.
# Looks at $JAVA_HOME, then `java` on PATH, then /usr/lib/jvm/*, /opt/*jdk*, ~/.sdkman and ~/.jdks
# (MEMCRYPT_JDK_ROOTS, a space-separated list of JDK directories, replaces those last places: for tests).
memcrypt_java_feature() { # prints the feature release of the java binary in $1 (e.g. 25)
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1
}
memcrypt_find_jdk() {
  local cand home v
  local -a roots
  if [ -n "${MEMCRYPT_JDK_ROOTS:-}" ]; then read -r -a roots <<< "$MEMCRYPT_JDK_ROOTS"
  else roots=(/usr/lib/jvm/* /opt/*jdk* /opt/java/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*)
  fi
  for cand in "${JAVA_HOME:-}" \
              "$(command -v java >/dev/null 2>&1 && dirname "$(dirname "$(readlink -f "$(command -v java)")")")" \
              "${roots[@]}"; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    v=$(memcrypt_java_feature "$cand/bin/java")
    case "$v" in ''|1.*) continue ;; esac
    if [ "$v" -ge 25 ] 2>/dev/null; then printf '%s\n' "$cand"; return 0; fi
  done
  return 1
}
if ! MEMCRYPT_JDK=$(memcrypt_find_jdk); then
  echo "memcrypt: needs a JDK 25 or newer (java and javac), and none was found in JAVA_HOME, PATH or /usr/lib/jvm." >&2
  echo "memcrypt: install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium) or 'sdk install java 25-tem', or set JAVA_HOME to it." >&2
  exit 3
fi
export JAVA_HOME="$MEMCRYPT_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
