#pragma once
// xtensor interop: the N-d arrays users pass in and out. Copies in both directions (an omni
// tensor may be strided or shared; an xarray owns dense row-major data), plus a zero-copy
// xtensor view of a dense CPU tensor, and .npy files through xtensor's reader and writer.
// Opt-in: only this header pulls in xtensor.
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "omni/policy/cpu.hpp"
#include "omni/tensor/tensor.hpp"

namespace omni::io {

// A dense copy of any xtensor expression's values as a Tensor<cpu> of the element's dtype.
template <class E> Tensor<cpu> from_xtensor(const xt::xexpression<E>& expr) {
    using T = typename E::value_type;
    const xt::xarray<T, xt::layout_type::row_major> a = expr.derived_cast();
    Shape s;
    for (auto d : a.shape()) s.push_back(static_cast<std::int64_t>(d));
    return Tensor<cpu>::from_data(std::span<const T>(a.data(), a.size()), s);
}

// A dense row-major xarray<T> holding t's values converted to T.
template <class T> xt::xarray<T> to_xtensor(const Tensor<cpu>& t) {
    std::vector<T> v = t.to_vector<T>();
    std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
    return xt::adapt(std::move(v), shape);
}

// A view (no copy) of a contiguous tensor as an xtensor expression; valid while t lives.
template <class T> auto view_xtensor(const Tensor<cpu>& t) {
    if (!t.is_contiguous())
        throw shape_error("view_xtensor", "expected a contiguous tensor, got strides " + t.strides().str() + " for shape " + t.shape().str());
    std::vector<std::size_t> shape(t.shape().begin(), t.shape().end());
    return xt::adapt(t.data<T>(), static_cast<std::size_t>(t.numel()), xt::no_ownership(), shape);
}

template <class T> Tensor<cpu> load_npy(const std::string& path) {
    try {
        return from_xtensor(xt::load_npy<T>(path));
    } catch (const std::exception& e) {
        throw io_error("load_npy", path + ": " + e.what());
    }
}

template <class T> void save_npy(const std::string& path, const Tensor<cpu>& t) {
    const std::string tmp = path + ".tmp";
    try {
        xt::dump_npy(tmp, to_xtensor<T>(t));
    } catch (const std::exception& e) {
        std::remove(tmp.c_str());
        throw io_error("save_npy", path + ": " + e.what());
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw io_error("save_npy", "cannot rename " + tmp + " to " + path);
    }
}

}  // namespace omni::io
