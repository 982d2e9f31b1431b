namespace Bnb8 {

/// <summary>
/// A failed bnb8 call. <see cref="Status"/> is the library's status code (Bnb.ERR_INVALID_ARGUMENT,
/// Bnb.ERR_IO, ...) and the message is the library's, naming the argument and its value, e.g.
/// "bnb_optimizer_create: config->lr = -1 is outside [0, inf)". The binding's own checks of arrays
/// throw it too, with status Bnb.ERR_INVALID_ARGUMENT, before anything reaches the library.
/// </summary>
public class Bnb8Exception : global::System.Exception {
  public Bnb8Exception(int status, string message) : base(message) {
    Status = status;
  }

  /// <summary>The bnb_status code of the failure; Bnb.StatusString(code) describes it.</summary>
  public int Status { get; }

  /// <summary>
  /// What native code raises (Note [csharp errors] in bindings/csharp/bnb8_csharp.i): a status, or the
  /// binding's code for a disposed object, whose message is then the object's C++ type.
  /// </summary>
  internal static global::System.Exception FromNative(int status, string message) {
    const int Disposed = -1;  // BNB8_CSHARP_DISPOSED
    if (status == Disposed) {
      return new global::System.ObjectDisposedException(message, message + " was disposed and cannot be used");
    }
    return new Bnb8Exception(status, message);
  }
}

}
