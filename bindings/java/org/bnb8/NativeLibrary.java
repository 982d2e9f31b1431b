package org.bnb8;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Loads the JNI library libbnb8_java.so, once, before any native call (the JNI class's static block).
 * In this order:
 * <ol>
 *   <li>{@code -Dorg.bnb8.library=/path/to/libbnb8_java.so}: that file (libbnb8.so.N must be beside it
 *       or on the loader's path);</li>
 *   <li>the copy inside bnb8.jar, under {@code org/bnb8/native/<os>-<arch>/} (e.g. linux-x86_64): the
 *       files listed in its {@code files} resource (libbnb8.so.N, then libbnb8_java.so, whose RUNPATH
 *       is $ORIGIN) are extracted into a new private folder under java.io.tmpdir, loaded, and deleted
 *       (the process keeps its mapping);</li>
 *   <li>else {@code System.loadLibrary("bnb8_java")}, from java.library.path.</li>
 * </ol>
 */
final class NativeLibrary {
    static final String PROPERTY = "org.bnb8.library";

    private NativeLibrary() {}

    static void load() {
        String path = System.getProperty(PROPERTY);
        if (path != null) {
            System.load(path);
            return;
        }
        String folder = "/org/bnb8/native/" + platform() + "/";
        List<String> files = resourceLines(folder + "files");
        if (files.isEmpty()) {
            System.loadLibrary("bnb8_java");  // a jar built without its native library
            return;
        }
        try {
            loadExtracted(folder, files);
        } catch (IOException error) {
            UnsatisfiedLinkError failure = new UnsatisfiedLinkError(
                "bnb8: cannot extract the native library from the jar into java.io.tmpdir ("
                + System.getProperty("java.io.tmpdir") + "): " + error + "; set -D" + PROPERTY
                + "=/path/to/libbnb8_java.so");
            failure.initCause(error);
            throw failure;
        }
    }

    /** "linux-x86_64" and the like: os.name and os.arch as the build names them (amd64 is x86_64). */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).replace(" ", "");
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (arch.equals("amd64")) {
            arch = "x86_64";
        }
        return os + "-" + arch;
    }

    private static List<String> resourceLines(String name) {
        List<String> lines = new ArrayList<>();
        try (InputStream in = NativeLibrary.class.getResourceAsStream(name)) {
            if (in == null) {
                return lines;
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    lines.add(line.trim());
                }
            }
        } catch (IOException error) {
            throw new UncheckedIOException(error);
        }
        return lines;
    }

    private static void loadExtracted(String folder, List<String> files) throws IOException {
        Path dir = Files.createTempDirectory("bnb8-");  // mode 0700 on POSIX file systems
        List<Path> written = new ArrayList<>();
        try {
            for (String file : files) {
                Path target = dir.resolve(file);
                try (InputStream in = NativeLibrary.class.getResourceAsStream(folder + file)) {
                    if (in == null) {
                        throw new IOException("resource " + folder + file + " is missing from the jar");
                    }
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
                written.add(target);
            }
            // The last file is the JNI library; the dynamic loader finds the others beside it ($ORIGIN).
            System.load(written.get(written.size() - 1).toString());
        } finally {
            for (Path file : written) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        }
    }
}
