/* bnb8_csharp.i -- the C# part of bindings/bnb8.i: namespace Bnb8, module class Bnb, assembly Bnb8.dll
 * over the P/Invoke library libbnb8_csharp.so.
 *
 * Included by bnb8.i before anything is wrapped, so the names, features and typemaps below reach every
 * declaration. What C# users see:
 *   - PascalCase methods and properties (config.OptimBits = 8); enums and #defines as int constants
 *     of Bnb (Bnb.ALGO_ADAMW), since every enum-valued argument of the C API is an int32_t;
 *   - 64-bit sizes, counts and indices as long (uint64_t and size_t too);
 *   - every failing status as Bnb8.Bnb8Exception carrying the status and the library's message;
 *   - Optimizer (like every proxy) is IDisposable; Dispose() frees it now, is idempotent, and any later
 *     call throws ObjectDisposedException instead of reaching the library with a freed handle;
 *   - buffers as managed arrays pinned while the library may use them, or unmanaged memory as IntPtr
 *     (Note [csharp buffers]). */

/* ---- names ---------------------------------------------------------------------------------------- */

%rename("%(camelcase)s", %$isfunction) "";
%rename("%(camelcase)s", %$isvariable) "";

%rename(GetHparamBounds) hparam_bounds;  /* HparamBounds is the record's name */

/* The feature bits are UINT64_C(1) << k: with this, SWIG's preprocessor can evaluate them too. */
#define UINT64_C(c) c

%include "enumsimple.swg"
%csconst(1);

/* uint64_t holds addresses and byte counts, never values above 2^63, and SWIG's C# size_t is a 32-bit
 * uint: both become long. */
%apply long long { uint64_t, size_t };

/* CUDA streams cannot be expressed here; Optimizer.import_param_state reads caller buffers whose sizes
 * depend on the parameter's state layout, which no C#-side check can bound (Python offers it). */
%ignore bnb_optimizer_config::cuda_stream;
%ignore Optimizer::import_param_state;

/* ---- errors: Bnb8Exception (bindings/csharp/Bnb8Exception.cs) ---------------------------------------
 *
 * Note [csharp errors]: SWIG's C# runtime raises managed exceptions from native code by calling back
 * into a delegate that stores a pending exception, which the proxy method throws once the P/Invoke
 * returns. The one callback here takes the status too, so the managed side builds a Bnb8Exception with
 * it (or ObjectDisposedException for BNB8_CSHARP_DISPOSED, a binding-only code no bnb_status uses). */

%{
#define BNB8_CSHARP_DISPOSED (-1)
typedef void (SWIGSTDCALL* bnb8_csharp_throw_callback)(int status, const char* message);
static bnb8_csharp_throw_callback bnb8_csharp_throw = nullptr;

extern "C" SWIGEXPORT void SWIGSTDCALL Bnb8CSharpRegisterThrow(bnb8_csharp_throw_callback callback) {
    bnb8_csharp_throw = callback;
}
%}

%pragma(csharp) imclasscode=%{
  /** Registers Bnb8Exception's factory with the native side (Note [csharp errors] in bnb8_csharp.i). */
  protected class Bnb8ThrowHelper {
    public delegate void ThrowDelegate(int status, string message);
    static ThrowDelegate throwDelegate = new ThrowDelegate(SetPending);  /* kept alive: native holds it */

    [global::System.Runtime.InteropServices.DllImport("$dllimport", EntryPoint="Bnb8CSharpRegisterThrow")]
    static extern void Bnb8CSharpRegisterThrow(ThrowDelegate callback);

    static void SetPending(int status, string message) {
      SWIGPendingException.Set(Bnb8Exception.FromNative(status, message));
    }

    static Bnb8ThrowHelper() {
      Bnb8CSharpRegisterThrow(throwDelegate);
    }
  }
  static protected Bnb8ThrowHelper bnb8ThrowHelper = new Bnb8ThrowHelper();
%}

%exception {
    bnb8_binding_status = BNB_OK;
    $action
    if (bnb8_binding_status != BNB_OK) {
        bnb8_csharp_throw(bnb8_binding_status, bnb_last_error_message());
        return $null;
    }
}

/* A disposed proxy passes a null pointer: refuse it here, before any C++ member is touched. */
%typemap(check, canthrow=1) SWIGTYPE* self %{
    if (!$1) {
        bnb8_csharp_throw(BNB8_CSHARP_DISPOSED, "$1_basetype");
        return $null;
    }
%}

/* ---- lifecycle: Dispose also releases the pins of registered arrays --------------------------------- */

%typemap(csdisposing, methodname="Dispose", methodmodifiers="protected", parameters="bool disposing") Optimizer {
    lock(this) {
      if (swigCPtr.Handle != global::System.IntPtr.Zero) {
        if (swigCMemOwn) {
          swigCMemOwn = false;
          $imcall;
        }
        swigCPtr = new global::System.Runtime.InteropServices.HandleRef(null, global::System.IntPtr.Zero);
      }
      foreach (PinnedArray[] pins in registered.Values) {
        PinnedArray.Release(pins);
      }
      registered.Clear();
    }
  }

/* ---- buffers ----------------------------------------------------------------------------------------
 *
 * Note [csharp buffers]: a managed array reaches the library as the address of its first element, with
 * its Length as the element count (no copy, no separate count that could disagree). The garbage
 * collector moves arrays, so the array is pinned (GCHandle, Pinned) for as long as the library may use
 * the address: for the duration of a call (CopyState, SaveToBuffer, ...), and, for a registered
 * parameter and gradient, which every Step reads and writes, from AddParam until the parameter is
 * rebound or the optimizer is disposed (or finalized). Long-lived pins fragment the managed heap a
 * little; programs that mind, or that keep parameters outside the managed heap (NativeMemory,
 * Marshal.AllocHGlobal, a CUDA allocation with device = its ordinal), register IntPtr addresses instead
 * and keep that memory alive themselves. float[] holds fp32 values, ushort[] the bits of fp16 or bf16
 * values (the dtype says which), byte[] checkpoint bytes and codes. Wrong lengths, null arrays and a
 * ushort[] with a non-16-bit dtype are a Bnb8Exception naming the argument, before any native call.
 *
 * The address-taking methods of the shared interface become private Raw* methods behind these. */

%rename(RawAddParam) Optimizer::add_param;
%rename(RawBindParam) Optimizer::bind_param;
%rename(RawCopyState) Optimizer::copy_state;
%rename(RawCopyClipHistory) Optimizer::copy_clip_history;
%rename(RawSaveToBuffer) Optimizer::save_to_buffer;
%rename(RawLoadFromBuffer) Optimizer::load_from_buffer;
%csmethodmodifiers Optimizer::add_param "private";
%csmethodmodifiers Optimizer::bind_param "private";
%csmethodmodifiers Optimizer::copy_state "private";
%csmethodmodifiers Optimizer::copy_clip_history "private";
%csmethodmodifiers Optimizer::save_to_buffer "private";
%csmethodmodifiers Optimizer::load_from_buffer "private";
%rename(RawQmapCopy) qmap_copy;
%rename(RawQuantizeBlockwise) quantize_blockwise;
%rename(RawDequantizeBlockwise) dequantize_blockwise;
%csmethodmodifiers qmap_copy "private";
%csmethodmodifiers quantize_blockwise "private";
%csmethodmodifiers dequantize_blockwise "private";

%typemap(cscode) Optimizer %{
  /** Pins of registered arrays by parameter index, {param, grad}: Note [csharp buffers]. */
  private readonly global::System.Collections.Generic.Dictionary<long, PinnedArray[]> registered =
      new global::System.Collections.Generic.Dictionary<long, PinnedArray[]>();

  /**
   * Registers an fp32 parameter and its gradient (null: none yet; the parameter is skipped by Step()
   * until one is bound) in parameter group <c>group</c>; returns the parameter's index. Both arrays stay
   * pinned until BindParam or Dispose.
   */
  public long AddParam(long group, float[] param, float[] grad) {
    return Register(-1, group, param, grad, Bnb.DTYPE_F32);
  }

  /** As AddParam for fp32, for 16-bit parameters: <c>dtype</c> is Bnb.DTYPE_F16 or Bnb.DTYPE_BF16. */
  public long AddParam(long group, ushort[] param, ushort[] grad, int dtype) {
    return Register(-1, group, param, grad, PinnedArray.HalfDtype(dtype));
  }

  /**
   * Registers <c>numel</c> elements of <c>dtype</c> at unmanaged addresses (grad: IntPtr.Zero for none)
   * on <c>device</c> (Bnb.DEVICE_CPU or a CUDA ordinal); the caller keeps the memory alive while it is
   * registered.
   */
  public long AddParam(long group, global::System.IntPtr param, global::System.IntPtr grad, long numel, int dtype,
                       int device = Bnb.DEVICE_CPU) {
    return RawAddParam(group, param.ToInt64(), grad.ToInt64(), numel, dtype, device);
  }

  /** Points parameter <c>index</c> at new arrays of its registered length and dtype (grad may be null). */
  public void BindParam(long index, float[] param, float[] grad) {
    Register(index, -1, param, grad, Bnb.DTYPE_F32);
  }

  /** As BindParam for fp32, for 16-bit parameters. */
  public void BindParam(long index, ushort[] param, ushort[] grad, int dtype) {
    Register(index, -1, param, grad, PinnedArray.HalfDtype(dtype));
  }

  /** As BindParam, at unmanaged addresses; the arrays bound before, if any, are unpinned. */
  public void BindParam(long index, global::System.IntPtr param, global::System.IntPtr grad, long numel, int dtype,
                        int device = Bnb.DEVICE_CPU) {
    RawBindParam(index, param.ToInt64(), grad.ToInt64(), numel, dtype, device);
    Keep(index, null);
  }

  /** add_param (index < 0) or bind_param (index >= 0) of pinned arrays, keeping the pins on success. */
  private long Register(long index, long group, global::System.Array param, global::System.Array grad, int dtype) {
    PinnedArray.Require(param, "param");
    if (grad != null && grad.LongLength != param.LongLength) {
      throw PinnedArray.Invalid("grad has {0} elements, param has {1}", grad.LongLength, param.LongLength);
    }
    PinnedArray[] pins = { new PinnedArray(param), new PinnedArray(grad) };
    try {
      if (index < 0) {
        index = RawAddParam(group, pins[0].Address, pins[1].Address, param.LongLength, dtype);
      } else {
        RawBindParam(index, pins[0].Address, pins[1].Address, param.LongLength, dtype);
      }
    } catch {
      PinnedArray.Release(pins);
      throw;
    }
    Keep(index, pins);
    return index;
  }

  private void Keep(long index, PinnedArray[] pins) {
    lock(this) {
      PinnedArray[] old;
      if (registered.TryGetValue(index, out old)) {
        PinnedArray.Release(old);
      }
      registered[index] = pins ?? new PinnedArray[0];
    }
  }

  /**
   * The fp32 values (dequantized for 8-bit states) of state <c>state</c> (Bnb.STATE1 or STATE2) of
   * parameter <c>index</c> into <c>dst</c>, whose Length must be the state's element count.
   */
  public void CopyState(long index, int state, float[] dst) {
    using (PinnedArray d = PinnedArray.Of(dst, "dst")) {
      RawCopyState(index, state, d.Address, dst.LongLength);
    }
  }

  /** Percentile clipping's history of parameter <c>index</c> (100 squared gradient norms) into dst. */
  public void CopyClipHistory(long index, float[] dst) {
    using (PinnedArray d = PinnedArray.Of(dst, "dst")) {
      RawCopyClipHistory(index, d.Address, dst.LongLength);
    }
  }

  /** Writes the checkpoint (the bytes Save writes) into dst, at least SerializedSize() bytes; returns the bytes written. */
  public long SaveToBuffer(byte[] dst) {
    using (PinnedArray d = PinnedArray.Of(dst, "dst")) {
      return RawSaveToBuffer(d.Address, dst.LongLength);
    }
  }

  /** The checkpoint in a new array of exactly SerializedSize() bytes. */
  public byte[] SaveToBuffer() {
    byte[] checkpoint = new byte[SerializedSize()];
    SaveToBuffer(checkpoint);
    return checkpoint;
  }

  /** Loads a checkpoint from all of src's bytes, validated as Load does. */
  public void LoadFromBuffer(byte[] src) {
    using (PinnedArray s = PinnedArray.Of(src, "src")) {
      RawLoadFromBuffer(s.Address, src.LongLength);
    }
  }
%}

%pragma(csharp) modulecode=%{
  /** The built-in map <c>kind</c> (QMAP_SIGNED or QMAP_UNSIGNED) into dst's first QMAP_SIZE floats. */
  public static void QmapCopy(int kind, float[] dst) {
    using (PinnedArray d = PinnedArray.Of(dst, "dst")) {
      PinnedArray.RequireAtLeast(dst, "dst", QMAP_SIZE);
      RawQmapCopy(kind, d.Address);
    }
  }

  /**
   * Block-wise quantization of src's fp32 values with the 256-float <c>map</c> and <c>blockSize</c>
   * elements per absmax: one code per element into <c>codes</c>, one absmax per block into <c>absmax</c>.
   */
  public static void QuantizeBlockwise(float[] map, float[] src, long blockSize, byte[] codes, float[] absmax) {
    Blockwise(true, map, src, DTYPE_F32, blockSize, codes, absmax);
  }

  /** As QuantizeBlockwise for fp32, for fp16 or bf16 bits (<c>dtype</c> DTYPE_F16 or DTYPE_BF16). */
  public static void QuantizeBlockwise(float[] map, ushort[] src, int dtype, long blockSize, byte[] codes,
                                       float[] absmax) {
    Blockwise(true, map, src, PinnedArray.HalfDtype(dtype), blockSize, codes, absmax);
  }

  /** Inverse of QuantizeBlockwise: all of dst's fp32 elements from codes and absmax. */
  public static void DequantizeBlockwise(float[] map, byte[] codes, float[] absmax, long blockSize, float[] dst) {
    Blockwise(false, map, dst, DTYPE_F32, blockSize, codes, absmax);
  }

  /** As DequantizeBlockwise for fp32, into fp16 or bf16 bits. */
  public static void DequantizeBlockwise(float[] map, byte[] codes, float[] absmax, long blockSize, ushort[] dst,
                                         int dtype) {
    Blockwise(false, map, dst, PinnedArray.HalfDtype(dtype), blockSize, codes, absmax);
  }

  /** Both directions: checks every array's length against the element count, then one library call. */
  private static void Blockwise(bool quantize, float[] map, global::System.Array values, int dtype, long blockSize,
                                byte[] codes, float[] absmax) {
    using (PinnedArray m = PinnedArray.Of(map, "map"), v = PinnedArray.Of(values, quantize ? "src" : "dst"),
           c = PinnedArray.Of(codes, "codes"), a = PinnedArray.Of(absmax, "absmax")) {
      long numel = values.LongLength;
      PinnedArray.RequireAtLeast(map, "map", QMAP_SIZE);
      PinnedArray.RequireAtLeast(codes, "codes", numel);
      if (blockSize >= 1) {  /* else the library reports block_size */
        PinnedArray.RequireAtLeast(absmax, "absmax", numel / blockSize + (numel % blockSize != 0 ? 1 : 0));
      }
      if (quantize) {
        RawQuantizeBlockwise(m.Address, v.Address, numel, dtype, blockSize, c.Address, a.Address);
      } else {
        RawDequantizeBlockwise(m.Address, c.Address, a.Address, blockSize, v.Address, numel, dtype);
      }
    }
  }
%}
