#!/usr/bin/env bash
# `cmake --install` of the Java and C# packages into a temporary prefix, each consumed from a fresh
# folder as a user would, with no library path set:
#   java:   a program compiled and run against <prefix>/share/java/bnb8.jar alone (the jar extracts and
#           loads its libbnb8_java.so); the Maven layout under <prefix>/share/maven-repo; and, where
#           Debian's maven and maven-install-plugin are installed, `mvn -o install:install-file` of
#           the jar into a scratch local repository;
#   csharp: a fresh project compiled against lib/net45/Bnb8.dll of <prefix>/lib/bnb8/dotnet with the
#           runtimes/linux-x64/native libraries copied beside its program, as the .NET SDK's build
#           does, checking the assembly's version; the .nupkg's entries where nuget packed one.
# Usage: check_bindings_install.sh <build dir> <source dir> <version> java|csharp...
set -euo pipefail
build_dir="$1" source_dir="$2" version="$3"
shift 3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
unset LD_LIBRARY_PATH MONO_PATH

for language in "$@"; do
    cmake --install "$build_dir" --prefix "$prefix" --component "$language" >/dev/null
    mkdir -p "$work/$language"
    cd "$work/$language"
    case "$language" in
    java)
        jar="$prefix/share/java/bnb8.jar"
        maven="$prefix/share/maven-repo/org/bnb8/bnb8/$version"
        test -f "$maven/bnb8-$version.jar" && test -f "$maven/bnb8-$version.pom"
        cat > Consumer.java <<'JAVA'
import org.bnb8.*;
public class Consumer {
    public static void main(String[] args) {
        java.nio.FloatBuffer w = Bnb8.directFloats(8192), g = Bnb8.directFloats(8192);
        for (int i = 0; i < 8192; ++i) { w.put(i, 1.0f); g.put(i, 0.5f); }
        OptimizerConfig config = new OptimizerConfig(Bnb8.ALGO_ADAMW);
        config.setOptimBits(8);
        try (Optimizer optimizer = new Optimizer(config)) {
            optimizer.addParam(0, w, g);
            optimizer.step();
        }
        if (!(w.get(0) < 1.0f)) throw new AssertionError("the step did not move the parameter");
        System.out.println("java: bnb8 " + Bnb8.versionString() + " from the jar alone");
    }
}
JAVA
        javac -cp "$jar" Consumer.java
        java -cp "$jar:." Consumer
        if command -v mvn >/dev/null && [ -d /usr/share/maven-repo/org/apache/maven/plugins/maven-install-plugin ]; then
            # Offline: Debian's /usr/share/maven-repo serves the plugin as a file:// mirror.
            mvn -o -q -B -Dstyle.color=never -s "$source_dir/bindings/java/debian-offline-settings.xml" -Daether.offline.protocols=file \
                -Dmaven.repo.local="$work/m2" install:install-file -Dfile="$jar" -DpomFile="$maven/bnb8-$version.pom"
            test -f "$work/m2/org/bnb8/bnb8/$version/bnb8-$version.jar"
            echo "java: mvn -o install:install-file put org.bnb8:bnb8:$version into a local repository"
        else
            echo "java: mvn -o install skipped (Debian packages maven and libmaven-install-plugin-java)"
        fi
        ;;
    csharp)
        package="$prefix/lib/bnb8/dotnet"
        test -f "$package/Bnb8.nuspec"
        mkdir -p bin
        cp "$package/lib/net45/Bnb8.dll" "$package"/runtimes/linux-x64/native/* bin/
        cat > Consumer.cs <<'CS'
using System;
using Bnb8;
static class Consumer {
    static int Main(string[] args) {
        float[] w = new float[8192], g = new float[8192];
        for (int i = 0; i < w.Length; ++i) { w[i] = 1f; g[i] = 0.5f; }
        using (var optimizer = new Optimizer(new OptimizerConfig(Bnb.ALGO_ADAMW) { OptimBits = 8 })) {
            optimizer.AddParam(0, w, g);
            optimizer.Step();
        }
        var version = typeof(Optimizer).Assembly.GetName().Version.ToString();
        if (version != args[0] + ".0") { Console.Error.WriteLine("assembly version " + version); return 1; }
        if (!(w[0] < 1f)) { Console.Error.WriteLine("the step did not move the parameter"); return 1; }
        Console.WriteLine("csharp: Bnb8 " + version + " from the package layout");
        return 0;
    }
}
CS
        mcs -nologo -r:bin/Bnb8.dll -out:bin/Consumer.exe Consumer.cs
        mono bin/Consumer.exe "$version"
        nupkg="$package/Bnb8.$version.nupkg"
        if [ -f "$nupkg" ]; then
            entries="$(unzip -Z1 "$nupkg" 2>/dev/null || python3 -m zipfile -l "$nupkg")"
            for entry in Bnb8.nuspec lib/net45/Bnb8.dll runtimes/linux-x64/native/libbnb8_csharp.so \
                         runtimes/linux-x64/native/libbnb8.so.0; do
                grep -q -F "$entry" <<<"$entries" || { echo "FAIL: $nupkg lacks $entry" >&2; exit 1; }
            done
            echo "csharp: $(basename "$nupkg") holds the assembly and the native libraries"
        else
            echo "csharp: no .nupkg (Debian package nuget not installed)"
        fi
        ;;
    *) echo "unknown language $language" >&2; exit 2 ;;
    esac
done
