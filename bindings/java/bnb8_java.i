/* bnb8_java.i -- the Java part of bindings/bnb8.i: package org.bnb8, module class Bnb8.
 *
 * Included by bnb8.i before anything is wrapped, so the names, features and typemaps below reach every
 * declaration. What Java users see:
 *   - camelCase methods and bean accessors (config.setOptimBits(8)); enums and #defines as int
 *     constants of Bnb8 (Bnb8.ALGO_ADAMW), since every enum-valued argument of the C API is an int32_t;
 *   - 64-bit sizes, counts and indices as long (uint64_t too: no BigInteger);
 *   - every failing status as org.bnb8.Bnb8Exception carrying the status and the library's message;
 *   - Optimizer implements AutoCloseable; close() frees it now, is idempotent, and any later call
 *     throws IllegalStateException instead of reaching the library with a freed handle;
 *   - buffers as direct java.nio buffers (Note [java buffers]). */

/* ---- names ---------------------------------------------------------------------------------------- */

%rename("%(lowercamelcase)s", %$isfunction) "";
%rename("%(lowercamelcase)s", %$isvariable) "";

/* The feature bits are UINT64_C(1) << k: with this, SWIG's preprocessor can evaluate them too. */
#define UINT64_C(c) c

%include "enumsimple.swg"
%javaconst(1);

/* uint64_t holds addresses and byte counts, never values above 2^63: Java's long, not BigInteger. */
%apply long long { uint64_t };

/* CUDA streams cannot be expressed in Java; Optimizer.importParamState reads caller buffers whose sizes
 * depend on the parameter's state layout, which no Java-side check can bound (Python offers it). */
%ignore bnb_optimizer_config::cuda_stream;
%ignore Optimizer::import_param_state;

/* ---- errors: Bnb8Exception (bindings/java/org/bnb8/Bnb8Exception.java) ------------------------------ */

%{
/* Note [java errors]: the exception is built from (status, UTF-8 bytes) rather than NewStringUTF, which
 * expects modified UTF-8 and would mangle a message quoting a path with characters outside the BMP. If
 * any JNI call fails, the error it left pending (e.g. OutOfMemoryError) is what Java sees. */
static void bnb8_java_throw(JNIEnv* jenv, int status, const char* message) {
    jclass type = jenv->FindClass("org/bnb8/Bnb8Exception");
    if (type == nullptr) return;
    jmethodID constructor = jenv->GetMethodID(type, "<init>", "(I[B)V");
    if (constructor == nullptr) return;
    const jsize length = static_cast<jsize>(std::strlen(message));
    jbyteArray bytes = jenv->NewByteArray(length);
    if (bytes == nullptr) return;
    jenv->SetByteArrayRegion(bytes, 0, length, reinterpret_cast<const jbyte*>(message));
    jobject error = jenv->NewObject(type, constructor, static_cast<jint>(status), bytes);
    if (error != nullptr) jenv->Throw(static_cast<jthrowable>(error));
}
%}

%exception {
    bnb8_binding_status = BNB_OK;
    $action
    if (bnb8_binding_status != BNB_OK) {
        bnb8_java_throw(jenv, bnb8_binding_status, bnb_last_error_message());
        return $null;
    }
}

/* A closed (deleted) proxy passes a null pointer: refuse it here, before any C++ member is touched.
 * (Thrown by hand: SWIG 4.0's SWIG_JavaThrowException has no IllegalStateException.) */
%typemap(check) SWIGTYPE* self %{
    if (!$1) {
        jclass type = jenv->FindClass("java/lang/IllegalStateException");
        if (type != nullptr) jenv->ThrowNew(type, "$1_basetype: the object was closed or deleted");
        return $null;
    }
%}

/* Paths cross as NUL-terminated UTF-8 bytes, what Linux file names are, rather than through SWIG's
 * default GetStringUTFChars, whose modified UTF-8 encodes characters outside the BMP differently. */
%typemap(jni) const char* path "jbyteArray"
%typemap(jtype) const char* path "byte[]"
%typemap(jstype) const char* path "String"
%typemap(javain) const char* path "DirectBuffers.pathBytes($javainput)"
%typemap(in) const char* path %{
    $1 = $input ? reinterpret_cast<char*>(jenv->GetByteArrayElements($input, nullptr)) : nullptr;
    if ($input && !$1) return $null;  /* OutOfMemoryError pending */
%}
%typemap(freearg) const char* path %{
    if ($1) jenv->ReleaseByteArrayElements($input, reinterpret_cast<jbyte*>($1), JNI_ABORT);
%}

/* ---- lifecycle: AutoCloseable, and the buffers a registration keeps -------------------------------- */

%typemap(javainterfaces) Optimizer "AutoCloseable"

/* The generated delete() also drops the references to registered buffers (Note [java buffers]). */
%typemap(javadestruct, methodname="delete", methodmodifiers="public synchronized", parameters="") Optimizer {
    if (swigCPtr != 0) {
      if (swigCMemOwn) {
        swigCMemOwn = false;
        $jnicall;
      }
      swigCPtr = 0;
    }
    registered.clear();
  }

/* ---- buffers ----------------------------------------------------------------------------------------
 *
 * Note [java buffers]: a buffer reaches the library as the address of a direct java.nio buffer, from its
 * position to its limit (the NIO convention): no copy, and the library reads or writes the buffer's own
 * memory. The element count comes from the buffer (remaining()), never from a separate argument, so a
 * count cannot disagree with the memory behind it. Before any address is taken, DirectBuffers checks that
 * the buffer is direct, in the platform's byte order (a big-endian FloatBuffer, Java's default view of a
 * ByteBuffer, would feed the library byte-swapped floats), writable where the library writes, and large
 * enough; each failure is a Bnb8Exception naming the argument.
 *
 * Lifetime: direct memory is freed when its buffer object becomes unreachable. The optimizer writes a
 * registered parameter at every step, so Optimizer keeps each registered buffer in `registered` until it
 * is rebound or the optimizer is closed; buffers of a single call are kept reachable until the call
 * returns with Reference.reachabilityFence. Memory freed explicitly (e.g. a closed Arena's segment) while
 * registered is the caller's error, as it is in C.
 *
 * The address-taking methods of the shared interface become private raw* methods behind buffer-taking
 * ones; the only native addition is direct_buffer_address (GetDirectBufferAddress). */

%{
/* A java.nio.Buffer argument as its direct address (0 for a non-direct buffer; DirectBuffers rejects
 * those before the call). */
struct bnb8_java_buffer {
    uint64_t address;
};
%}
%typemap(jni) bnb8_java_buffer "jobject"
%typemap(jtype) bnb8_java_buffer "java.nio.Buffer"
%typemap(jstype) bnb8_java_buffer "java.nio.Buffer"
%typemap(javain) bnb8_java_buffer "$javainput"
%typemap(in) bnb8_java_buffer %{
    $1.address = $input ? static_cast<uint64_t>(reinterpret_cast<uintptr_t>(jenv->GetDirectBufferAddress($input))) : 0;
%}
%javamethodmodifiers direct_buffer_address "";  /* package-private: for DirectBuffers */
%inline %{
uint64_t direct_buffer_address(bnb8_java_buffer buffer) { return buffer.address; }
%}

%rename(rawAddParam) Optimizer::add_param;
%rename(rawBindParam) Optimizer::bind_param;
%rename(rawCopyState) Optimizer::copy_state;
%rename(rawCopyClipHistory) Optimizer::copy_clip_history;
%rename(rawSaveToBuffer) Optimizer::save_to_buffer;
%rename(rawLoadFromBuffer) Optimizer::load_from_buffer;
%javamethodmodifiers Optimizer::add_param "private";
%javamethodmodifiers Optimizer::bind_param "private";
%javamethodmodifiers Optimizer::copy_state "private";
%javamethodmodifiers Optimizer::copy_clip_history "private";
%javamethodmodifiers Optimizer::save_to_buffer "private";
%javamethodmodifiers Optimizer::load_from_buffer "private";
%rename(rawQmapCopy) qmap_copy;
%rename(rawQuantizeBlockwise) quantize_blockwise;
%rename(rawDequantizeBlockwise) dequantize_blockwise;
%javamethodmodifiers qmap_copy "private";
%javamethodmodifiers quantize_blockwise "private";
%javamethodmodifiers dequantize_blockwise "private";

%typemap(javaimports) Optimizer %{
import java.lang.ref.Reference;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
%}

%typemap(javacode) Optimizer %{
  /** Registered buffers by parameter index, {param, grad}: see Note [java buffers] in bnb8_java.i. */
  private final java.util.HashMap<Long, Buffer[]> registered = new java.util.HashMap<>();

  /** Frees the optimizer and its states now. Idempotent; any later call throws IllegalStateException. */
  @Override
  public void close() {
    delete();
  }

  /**
   * Registers an fp32 parameter and its gradient (null: none yet; the parameter is skipped by step()
   * until one is bound) in parameter group {@code group}; returns the parameter's index. Both are
   * direct buffers in native order (Bnb8.directFloats), used from position to limit, and must not be
   * freed while registered: the optimizer keeps them referenced until bindParam or close.
   */
  public long addParam(long group, FloatBuffer param, FloatBuffer grad) {
    return register(-1, group, param, grad, Bnb8.DTYPE_F32);
  }

  /** As addParam for fp32, for 16-bit parameters: {@code dtype} is Bnb8.DTYPE_F16 or Bnb8.DTYPE_BF16. */
  public long addParam(long group, ShortBuffer param, ShortBuffer grad, int dtype) {
    return register(-1, group, param, grad, DirectBuffers.halfDtype(dtype));
  }

  /** Points parameter {@code index} at new buffers of its registered size and dtype (grad may be null). */
  public void bindParam(long index, FloatBuffer param, FloatBuffer grad) {
    register(index, -1, param, grad, Bnb8.DTYPE_F32);
  }

  /** As bindParam for fp32, for 16-bit parameters. */
  public void bindParam(long index, ShortBuffer param, ShortBuffer grad, int dtype) {
    register(index, -1, param, grad, DirectBuffers.halfDtype(dtype));
  }

  /** add_param (index < 0) or bind_param (index >= 0), keeping the buffers referenced on success. */
  private synchronized long register(long index, long group, Buffer param, Buffer grad, int dtype) {
    Buffer p = DirectBuffers.view(param, "param", true);
    Buffer g = grad == null ? null : DirectBuffers.view(grad, "grad", false);
    if (g != null && g.remaining() != p.remaining()) {
      throw DirectBuffers.invalid("grad has %d elements, param has %d", g.remaining(), p.remaining());
    }
    try {
      long gradAddress = g == null ? 0 : DirectBuffers.address(g);
      if (index < 0) {
        index = rawAddParam(group, DirectBuffers.address(p), gradAddress, p.remaining(), dtype);
      } else {
        rawBindParam(index, DirectBuffers.address(p), gradAddress, p.remaining(), dtype);
      }
      registered.put(index, new Buffer[] {p, g});
      return index;
    } finally {
      Reference.reachabilityFence(p);
      Reference.reachabilityFence(g);
    }
  }

  /**
   * The fp32 values (dequantized for 8-bit states) of state {@code state} (Bnb8.STATE1 or STATE2) of
   * parameter {@code index} into {@code dst}, which must hold exactly as many elements as the state.
   */
  public void copyState(long index, int state, FloatBuffer dst) {
    FloatBuffer d = DirectBuffers.view(dst, "dst", true);
    try {
      rawCopyState(index, state, DirectBuffers.address(d), d.remaining());
    } finally {
      Reference.reachabilityFence(d);
    }
  }

  /** Percentile clipping's history of parameter {@code index} (100 squared gradient norms) into dst. */
  public void copyClipHistory(long index, FloatBuffer dst) {
    FloatBuffer d = DirectBuffers.view(dst, "dst", true);
    try {
      rawCopyClipHistory(index, DirectBuffers.address(d), d.remaining());
    } finally {
      Reference.reachabilityFence(d);
    }
  }

  /**
   * Writes the checkpoint (the bytes save() writes) into {@code dst} from its position, which must have
   * at least serializedSize() bytes remaining; returns the bytes written. dst's position is unchanged.
   */
  public long saveToBuffer(ByteBuffer dst) {
    ByteBuffer d = DirectBuffers.view(dst, "dst", true);
    try {
      return rawSaveToBuffer(DirectBuffers.address(d), d.remaining());
    } finally {
      Reference.reachabilityFence(d);
    }
  }

  /** The checkpoint in a new direct buffer of exactly serializedSize() bytes. */
  public ByteBuffer saveToBuffer() {
    ByteBuffer checkpoint = Bnb8.directBytes(Math.toIntExact(serializedSize()));
    saveToBuffer(checkpoint);
    return checkpoint;
  }

  /** Loads a checkpoint from {@code src}'s remaining bytes, validated as load() does. */
  public void loadFromBuffer(ByteBuffer src) {
    ByteBuffer s = DirectBuffers.view(src, "src", false);
    try {
      rawLoadFromBuffer(DirectBuffers.address(s), s.remaining());
    } finally {
      Reference.reachabilityFence(s);
    }
  }
%}

%pragma(java) moduleimports=%{
import java.lang.ref.Reference;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
%}

%pragma(java) modulecode=%{
  /** A new direct buffer of {@code count} floats in the platform's byte order, as the library expects. */
  public static FloatBuffer directFloats(int count) {
    return directBytes(Math.multiplyExact(count, Float.BYTES)).asFloatBuffer();
  }

  /** A new direct buffer of {@code count} 16-bit values (fp16 or bf16 bits) in the platform's byte order. */
  public static ShortBuffer directShorts(int count) {
    return directBytes(Math.multiplyExact(count, Short.BYTES)).asShortBuffer();
  }

  /** A new direct buffer of {@code count} bytes in the platform's byte order. */
  public static ByteBuffer directBytes(int count) {
    return ByteBuffer.allocateDirect(count).order(ByteOrder.nativeOrder());
  }

  /** The built-in map {@code kind} (QMAP_SIGNED or QMAP_UNSIGNED) into {@code dst}'s first QMAP_SIZE floats. */
  public static void qmapCopy(int kind, FloatBuffer dst) {
    FloatBuffer d = DirectBuffers.view(dst, "dst", true);
    DirectBuffers.requireAtLeast(d, "dst", QMAP_SIZE);
    try {
      rawQmapCopy(kind, DirectBuffers.address(d));
    } finally {
      Reference.reachabilityFence(d);
    }
  }

  /**
   * Block-wise quantization of {@code src}'s remaining fp32 values with the 256-float {@code map} and
   * {@code blockSize} elements per absmax: one code per element into {@code codes}, one absmax per block
   * into {@code absmax}.
   */
  public static void quantizeBlockwise(FloatBuffer map, FloatBuffer src, long blockSize, ByteBuffer codes,
                                       FloatBuffer absmax) {
    blockwise(true, map, src, DTYPE_F32, blockSize, codes, absmax);
  }

  /** As quantizeBlockwise for fp32, for fp16 or bf16 values ({@code dtype} DTYPE_F16 or DTYPE_BF16). */
  public static void quantizeBlockwise(FloatBuffer map, ShortBuffer src, int dtype, long blockSize,
                                       ByteBuffer codes, FloatBuffer absmax) {
    blockwise(true, map, src, DirectBuffers.halfDtype(dtype), blockSize, codes, absmax);
  }

  /** Inverse of quantizeBlockwise: {@code dst}'s remaining fp32 elements from codes and absmax. */
  public static void dequantizeBlockwise(FloatBuffer map, ByteBuffer codes, FloatBuffer absmax, long blockSize,
                                         FloatBuffer dst) {
    blockwise(false, map, dst, DTYPE_F32, blockSize, codes, absmax);
  }

  /** As dequantizeBlockwise for fp32, into fp16 or bf16 values. */
  public static void dequantizeBlockwise(FloatBuffer map, ByteBuffer codes, FloatBuffer absmax, long blockSize,
                                         ShortBuffer dst, int dtype) {
    blockwise(false, map, dst, DirectBuffers.halfDtype(dtype), blockSize, codes, absmax);
  }

  /** Both directions: checks every buffer's size against the element count, then one library call. */
  private static void blockwise(boolean quantize, FloatBuffer map, Buffer values, int dtype, long blockSize,
                                ByteBuffer codes, FloatBuffer absmax) {
    String valuesName = quantize ? "src" : "dst";
    FloatBuffer m = DirectBuffers.view(map, "map", false);
    Buffer v = DirectBuffers.view(values, valuesName, !quantize);
    ByteBuffer c = DirectBuffers.view(codes, "codes", quantize);
    FloatBuffer a = DirectBuffers.view(absmax, "absmax", quantize);
    long numel = v.remaining();
    DirectBuffers.requireAtLeast(m, "map", QMAP_SIZE);
    DirectBuffers.requireAtLeast(c, "codes", numel);
    if (blockSize >= 1) {  /* else the library reports block_size */
      DirectBuffers.requireAtLeast(a, "absmax", numel / blockSize + (numel % blockSize != 0 ? 1 : 0));
    }
    try {
      if (quantize) {
        rawQuantizeBlockwise(DirectBuffers.address(m), DirectBuffers.address(v), numel, dtype, blockSize,
                             DirectBuffers.address(c), DirectBuffers.address(a));
      } else {
        rawDequantizeBlockwise(DirectBuffers.address(m), DirectBuffers.address(c), DirectBuffers.address(a),
                               blockSize, DirectBuffers.address(v), numel, dtype);
      }
    } finally {
      Reference.reachabilityFence(m);
      Reference.reachabilityFence(v);
      Reference.reachabilityFence(c);
      Reference.reachabilityFence(a);
    }
  }
%}

/* The JNI class is package-private: its raw entry points take addresses, so they stay behind the
 * proxies' checks. The native library: -Dorg.bnb8.library=/path/to/libbnb8_java.so, else the copy
 * inside bnb8.jar, else libbnb8_java.so on java.library.path (bindings/java/org/bnb8/NativeLibrary.java). */
%pragma(java) jniclassclassmodifiers="final class"
%pragma(java) jniclasscode=%{
  static {
    NativeLibrary.load();
  }
%}
