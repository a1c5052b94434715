// SPDX-License-Identifier: GPL-2.0
// xb-json - a strict JSON reader for test scripts (the test bed has no jq).
//
//   xb-json check        stdin is one JSON document          (exit 0, or 1)
//   xb-json lines        every non-empty line of stdin is one JSON document
//   xb-json get PATH     print the value at PATH ("features.flush_mode",
//                        "0.name", "stats.ops.write.requests"): strings without
//                        quotes, numbers, true/false/null, objects and arrays as
//                        JSON; exit 1 if stdin is not JSON, 2 if PATH is absent
//   xb-json len [PATH]   number of elements of the array (or object) at PATH
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Value {
	enum Kind { null, boolean, number, string, array, object } kind = null;
	std::string text;                     // number, string (unescaped), boolean
	std::vector<std::unique_ptr<Value>> items;
	std::vector<std::pair<std::string, std::unique_ptr<Value>>> members;
	size_t begin = 0, end = 0;            // source span
};

class Parser {
public:
	explicit Parser(const std::string& s) : s_(s) {}
	std::unique_ptr<Value> document()
	{
		auto v = value();
		ws();
		if (!v || i_ != s_.size())
			return nullptr;
		return v;
	}
private:
	void ws() { while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) i_++; }
	bool lit(const char* l)
	{
		const std::string x(l);
		if (s_.compare(i_, x.size(), x))
			return false;
		i_ += x.size();
		return true;
	}
	bool str(std::string* out)
	{
		if (i_ >= s_.size() || s_[i_] != '"')
			return false;
		for (i_++; i_ < s_.size(); i_++) {
			const unsigned char c = static_cast<unsigned char>(s_[i_]);
			if (c < 0x20)
				return false;
			if (c == '"') {
				i_++;
				return true;
			}
			if (c == '\\') {
				if (++i_ >= s_.size())
					return false;
				switch (s_[i_]) {
				case '"': case '\\': case '/': *out += s_[i_]; break;
				case 'n': *out += '\n'; break;
				case 't': *out += '\t'; break;
				case 'r': *out += '\r'; break;
				case 'b': *out += '\b'; break;
				case 'f': *out += '\f'; break;
				case 'u':
					if (i_ + 4 >= s_.size())
						return false;
					*out += '?';
					i_ += 4;
					break;
				default: return false;
				}
				continue;
			}
			*out += static_cast<char>(c);
		}
		return false;
	}
	std::unique_ptr<Value> value()
	{
		ws();
		if (i_ >= s_.size())
			return nullptr;
		auto v = std::make_unique<Value>();
		v->begin = i_;
		const char c = s_[i_];
		if (c == '{' || c == '[') {
			const bool obj = c == '{';
			v->kind = obj ? Value::object : Value::array;
			i_++;
			ws();
			if (i_ < s_.size() && s_[i_] == (obj ? '}' : ']')) {
				i_++;
			} else {
				for (;;) {
					std::string key;
					if (obj) {
						ws();
						if (!str(&key))
							return nullptr;
						ws();
						if (i_ >= s_.size() || s_[i_++] != ':')
							return nullptr;
					}
					auto item = value();
					if (!item)
						return nullptr;
					if (obj)
						v->members.emplace_back(key, std::move(item));
					else
						v->items.push_back(std::move(item));
					ws();
					if (i_ >= s_.size())
						return nullptr;
					if (s_[i_] == (obj ? '}' : ']')) {
						i_++;
						break;
					}
					if (s_[i_++] != ',')
						return nullptr;
				}
			}
		} else if (c == '"') {
			v->kind = Value::string;
			if (!str(&v->text))
				return nullptr;
		} else if (lit("true") || lit("false")) {
			v->kind = Value::boolean;
		} else if (lit("null")) {
			v->kind = Value::null;
		} else {
			v->kind = Value::number;
			const size_t b = i_;
			if (s_[i_] == '-')
				i_++;
			size_t digits = 0;
			while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' ||
						  s_[i_] == 'e' || s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-')) {
				digits += s_[i_] >= '0' && s_[i_] <= '9';
				i_++;
			}
			if (!digits)
				return nullptr;
			v->text = s_.substr(b, i_ - b);
		}
		v->end = i_;
		if (v->kind == Value::boolean)
			v->text = s_.substr(v->begin, v->end - v->begin);
		return v;
	}
	const std::string& s_;
	size_t i_ = 0;
};

const Value* at(const Value* v, const std::string& path)
{
	std::stringstream ss(path);
	std::string part;
	while (v && std::getline(ss, part, '.')) {
		if (part.empty())
			continue;
		const Value* next = nullptr;
		if (v->kind == Value::object) {
			for (const auto& m : v->members)
				if (m.first == part)
					next = m.second.get();
		} else if (v->kind == Value::array) {
			char* e = nullptr;
			const unsigned long i = std::strtoul(part.c_str(), &e, 10);
			if (*e == '\0' && i < v->items.size())
				next = v->items[i].get();
		}
		v = next;
	}
	return v;
}

} // namespace

int main(int argc, char** argv)
{
	const std::string mode = argc > 1 ? argv[1] : "";
	const std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
	if (mode == "lines") {
		std::stringstream ss(in);
		std::string line;
		int n = 0;
		while (std::getline(ss, line)) {
			if (line.empty())
				continue;
			n++;
			if (!Parser(line).document()) {
				std::fprintf(stderr, "xb-json: line %d is not JSON: %s\n", n, line.c_str());
				return 1;
			}
		}
		return 0;
	}
	auto doc = Parser(in).document();
	if (!doc) {
		std::fprintf(stderr, "xb-json: stdin is not one JSON document\n");
		return 1;
	}
	if (mode == "check")
		return 0;
	if (mode == "get" || mode == "len") {
		const Value* v = at(doc.get(), argc > 2 ? argv[2] : "");
		if (!v) {
			std::fprintf(stderr, "xb-json: no %s\n", argc > 2 ? argv[2] : "value");
			return 2;
		}
		if (mode == "len") {
			if (v->kind != Value::array && v->kind != Value::object)
				return 2;
			std::printf("%zu\n", v->kind == Value::array ? v->items.size() : v->members.size());
		} else if (v->kind == Value::string || v->kind == Value::number || v->kind == Value::boolean) {
			std::printf("%s\n", v->text.c_str());
		} else {
			std::printf("%s\n", in.substr(v->begin, v->end - v->begin).c_str());
		}
		return 0;
	}
	std::fprintf(stderr, "usage: xb-json check | lines | get PATH | len [PATH]\n");
	return 1;
}
