namespace Bnb8 {

using GCHandle = global::System.Runtime.InteropServices.GCHandle;
using GCHandleType = global::System.Runtime.InteropServices.GCHandleType;

/// <summary>
/// A managed array pinned while the library may use its address (Note [csharp buffers] in
/// bindings/csharp/bnb8_csharp.i), and the checks arrays pass before they reach the library. A null
/// array pins nothing and has address 0.
/// </summary>
internal sealed class PinnedArray : global::System.IDisposable {
  private GCHandle handle;

  public PinnedArray(global::System.Array array) {
    if (array != null) {
      handle = GCHandle.Alloc(array, GCHandleType.Pinned);
      Address = handle.AddrOfPinnedObject().ToInt64();
    }
  }

  /// <summary>The address of the first element, 0 for no array.</summary>
  public long Address { get; }

  /// <summary>Pins a required argument, after checking it is there.</summary>
  public static PinnedArray Of(global::System.Array array, string name) {
    Require(array, name);
    return new PinnedArray(array);
  }

  public void Dispose() {
    if (handle.IsAllocated) {
      handle.Free();
    }
  }

  public static void Release(PinnedArray[] pins) {
    foreach (PinnedArray pin in pins) {
      pin.Dispose();
    }
  }

  public static void Require(global::System.Array array, string name) {
    if (array == null) {
      throw Invalid("{0} is null", name);
    }
  }

  public static void RequireAtLeast(global::System.Array array, string name, long elements) {
    if (array.LongLength < elements) {
      throw Invalid("{0} has {1} elements, {2} needed", name, array.LongLength, elements);
    }
  }

  /// <summary>The dtype of ushort[] values: DTYPE_F16 or DTYPE_BF16, else a 2-byte element would be read as 4.</summary>
  public static int HalfDtype(int dtype) {
    if (dtype != Bnb.DTYPE_F16 && dtype != Bnb.DTYPE_BF16) {
      throw Invalid("dtype = {0} is not DTYPE_F16 ({1}) or DTYPE_BF16 ({2}), the dtypes of a ushort[]", dtype,
                    Bnb.DTYPE_F16, Bnb.DTYPE_BF16);
    }
    return dtype;
  }

  public static Bnb8Exception Invalid(string format, params object[] args) {
    return new Bnb8Exception(Bnb.ERR_INVALID_ARGUMENT, string.Format(format, args));
  }
}

}
