package org.bnb8;

import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The checks a java.nio buffer passes before its address reaches the library (Note [java buffers] in
 * bindings/java/bnb8_java.i), and the conversion of paths. Each failure is a Bnb8Exception with status
 * ERR_INVALID_ARGUMENT naming the argument.
 */
final class DirectBuffers {
    private DirectBuffers() {}

    /**
     * {@code buffer} from its position to its limit (a slice, whose address is that of the first
     * element), after checking that it is present, direct, writable when the library writes it, and in
     * the platform's byte order when its elements span several bytes.
     */
    @SuppressWarnings("unchecked")
    static <B extends Buffer> B view(B buffer, String name, boolean written) {
        if (buffer == null) {
            throw invalid("%s is null", name);
        }
        if (!buffer.isDirect()) {
            throw invalid("%s is not a direct buffer (allocate it with Bnb8.directFloats, directShorts or "
                          + "directBytes, or ByteBuffer.allocateDirect)", name);
        }
        if (written && buffer.isReadOnly()) {
            throw invalid("%s is read-only, but the library writes it", name);
        }
        ByteOrder order = buffer instanceof FloatBuffer ? ((FloatBuffer) buffer).order()
                          : buffer instanceof ShortBuffer ? ((ShortBuffer) buffer).order()
                          : ByteOrder.nativeOrder();
        if (order != ByteOrder.nativeOrder()) {
            throw invalid("%s is %s, the platform is %s (view a ByteBuffer after .order(ByteOrder.nativeOrder()))",
                          name, order, ByteOrder.nativeOrder());
        }
        return (B) buffer.slice();
    }

    /** The address of a view's first element. */
    static long address(Buffer view) {
        long address = Bnb8.directBufferAddress(view);
        if (address == 0 && view.capacity() > 0) {
            throw invalid("a direct buffer without an address");  // unreachable for buffers view() accepted
        }
        return address;
    }

    static void requireAtLeast(Buffer view, String name, long elements) {
        if (view.remaining() < elements) {
            throw invalid("%s has %d elements remaining, %d needed", name, view.remaining(), elements);
        }
    }

    /** A path as the library takes it: UTF-8, NUL-terminated (null stays null: the library reports it). */
    static byte[] pathBytes(String path) {
        if (path == null) {
            return null;
        }
        if (path.indexOf('\0') >= 0) {
            throw invalid("path '%s' contains a NUL character", path.replace('\0', '?'));
        }
        byte[] utf8 = path.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(utf8, utf8.length + 1);
    }

    /** The dtype of 16-bit values: DTYPE_F16 or DTYPE_BF16, else a 2-byte element would be read as 4. */
    static int halfDtype(int dtype) {
        if (dtype != Bnb8.DTYPE_F16 && dtype != Bnb8.DTYPE_BF16) {
            throw invalid("dtype = %d is not DTYPE_F16 (%d) or DTYPE_BF16 (%d), the dtypes of a ShortBuffer", dtype,
                          Bnb8.DTYPE_F16, Bnb8.DTYPE_BF16);
        }
        return dtype;
    }

    static Bnb8Exception invalid(String format, Object... args) {
        return new Bnb8Exception(Bnb8.ERR_INVALID_ARGUMENT, String.format(format, args));
    }
}
