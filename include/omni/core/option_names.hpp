#pragma once
// Names for an enum's values in options files (train/options_file.hpp reads and writes a named
// enum as its name, any other enum as its integer). It lives in core, with no dependencies, so a
// header that defines an enum can name its values without pulling in the JSON reader:
//
//   enum class adapter_kind { lora, sbora_fa };
//   template <> struct option_names<nn::adapter_kind> {
//       static constexpr std::array<std::pair<nn::adapter_kind, std::string_view>, 2> table{
//           {{nn::adapter_kind::lora, "lora"}, {nn::adapter_kind::sbora_fa, "sbora_fa"}}};
//   };
//
// (the specialisation goes in namespace omni).
namespace omni {

template <class E> struct option_names {};

}  // namespace omni
