#pragma once
// The omni::error family. Every message reads "<kind>: <op>: <what was expected>, got <what came>",
// so a user sees which operation refused which input without a debugger.
#include <stdexcept>
#include <string>

namespace omni {

/// Base of every omni exception; what() reads `"<kind>: <op>: <expected>, got <actual>"` and op() names the refusing operation.
class error : public std::runtime_error {
public:
    error(const std::string& kind, const std::string& op, const std::string& detail)
        : std::runtime_error(kind + ": " + op + ": " + detail), op_(op) {}
    const std::string& op() const noexcept { return op_; }

private:
    std::string op_;
};

#define OMNI_DEFINE_ERROR(name)                                                  \
    class name : public error {                                                  \
    public:                                                                      \
        name(const std::string& op, const std::string& detail) : error(#name, op, detail) {} \
    };

OMNI_DEFINE_ERROR(shape_error)   ///< shapes that do not fit the op
OMNI_DEFINE_ERROR(value_error)   ///< a value out of its domain (axis, eps, size, ...)
OMNI_DEFINE_ERROR(index_error)   ///< an index outside the tensor it addresses
OMNI_DEFINE_ERROR(dtype_error)   ///< an element type the op does not accept
OMNI_DEFINE_ERROR(device_error)  ///< a device is missing or a device call failed
OMNI_DEFINE_ERROR(io_error)      ///< a file could not be read or written
OMNI_DEFINE_ERROR(autodiff_error) ///< misuse of the tape (backward twice, non-scalar root, ...)
OMNI_DEFINE_ERROR(anomaly_error)  ///< a NaN or an infinity an op produced under anomaly mode (omni::detect_anomaly)
#undef OMNI_DEFINE_ERROR

/// Runs the body of a composite op (cross_entropy is log_softmax, gather and mean): an error that
/// an op inside raises is rethrown as the same kind under the composite's name, the inner op kept
/// in the message ("index_error: cross_entropy: in gather: expected indices in [0, 3), got 5"), so
/// the user reads the name of the function they called.
template <class F> decltype(auto) as_op(const char* op, F&& body) {
    try {
        return body();
    } catch (const error& e) {
        if (e.op() == op) throw;
        const std::string what = e.what();
        const std::size_t at = what.find(": " + e.op() + ": ");
        const std::string detail = "in " + e.op() + ": " + (at == std::string::npos ? what : what.substr(at + e.op().size() + 4));
#define OMNI_RETHROW_AS(name) \
        if (dynamic_cast<const name*>(&e)) throw name(op, detail);
        OMNI_RETHROW_AS(shape_error) OMNI_RETHROW_AS(value_error) OMNI_RETHROW_AS(index_error) OMNI_RETHROW_AS(dtype_error)
        OMNI_RETHROW_AS(device_error) OMNI_RETHROW_AS(io_error) OMNI_RETHROW_AS(autodiff_error) OMNI_RETHROW_AS(anomaly_error)
#undef OMNI_RETHROW_AS
        throw;
    }
}

}  // namespace omni
