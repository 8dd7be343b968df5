// hypatia::SmallVector: a vector that keeps up to N elements inside itself. An array's shape and strides
// are copied with every view, step input and result; as std::vectors that was two heap allocations per
// copy, the largest cost of a loop's small steps. Trivially copyable elements only.
#pragma once
#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace hypatia {

template <class T, size_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>, "SmallVector holds trivially copyable elements");

 public:
  using value_type = T;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  SmallVector() = default;
  explicit SmallVector(size_t n) { resize(n); }
  SmallVector(size_t n, const T& value) { assign(n, value); }
  template <std::input_iterator It>
  SmallVector(It first, It last) { assign(first, last); }
  SmallVector(std::initializer_list<T> values) { assign(values.begin(), values.end()); }
  SmallVector(const std::vector<T>& values) { assign(values.begin(), values.end()); }  // NOLINT: interchangeable
  SmallVector(const SmallVector& other) { assign(other.begin(), other.end()); }
  SmallVector(SmallVector&& other) noexcept { take(other); }
  ~SmallVector() { release(); }

  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> values) {
    assign(values.begin(), values.end());
    return *this;
  }
  operator std::vector<T>() const { return std::vector<T>(begin(), end()); }  // NOLINT: interchangeable

  void assign(size_t n, const T& value) {
    const T copy = value;  // (it may live in this vector)
    clear();
    resize(n, copy);
  }
  template <std::input_iterator It>
  void assign(It first, It last) {
    clear();
    if constexpr (std::contiguous_iterator<It> && std::is_same_v<std::iter_value_t<It>, T>) {
      const size_t n = static_cast<size_t>(last - first);
      reserve(n);
      if (n) std::memmove(data_, std::to_address(first), n * sizeof(T));
      size_ = n;
    } else {  // (other element types convert one by one, as std::vector's do)
      if constexpr (std::forward_iterator<It>) reserve(static_cast<size_t>(std::distance(first, last)));
      for (; first != last; ++first) push_back(static_cast<T>(*first));
    }
  }
  void assign(std::initializer_list<T> values) { assign(values.begin(), values.end()); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& at(size_t i) {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data_[i];
  }
  const T& at(size_t i) const {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data_[i];
  }
  T& front() { return data_[0]; }
  const T& front() const { return data_[0]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }

  iterator begin() { return data_; }
  iterator end() { return data_ + size_; }
  const_iterator begin() const { return data_; }
  const_iterator end() const { return data_ + size_; }
  const_iterator cbegin() const { return data_; }
  const_iterator cend() const { return data_ + size_; }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

  void reserve(size_t n) {
    if (n <= capacity_) return;
    const size_t grown = std::max(n, 2 * capacity_);
    T* block = static_cast<T*>(std::malloc(grown * sizeof(T)));
    if (!block) throw std::bad_alloc();
    if (size_) std::memcpy(block, data_, size_ * sizeof(T));
    if (data_ != local_) std::free(data_);
    data_ = block;
    capacity_ = grown;
  }
  void resize(size_t n) { resize(n, T()); }
  void resize(size_t n, const T& value) {
    if (n > size_) {
      const T copy = value;
      reserve(n);
      std::fill(data_ + size_, data_ + n, copy);
    }
    size_ = n;
  }
  void clear() { size_ = 0; }
  void push_back(const T& value) {
    if (size_ == capacity_) {
      const T copy = value;
      reserve(size_ + 1);
      data_[size_++] = copy;
      return;
    }
    data_[size_++] = value;
  }
  template <class... Args>
  T& emplace_back(Args&&... args) {
    push_back(T(std::forward<Args>(args)...));
    return back();
  }
  void pop_back() { --size_; }

  iterator insert(const_iterator position, const T& value) { return insert(position, size_t{1}, value); }
  iterator insert(const_iterator position, size_t n, const T& value) {
    const size_t at = position - data_;
    const T copy = value;
    open_gap(at, n);
    std::fill(data_ + at, data_ + at + n, copy);
    return data_ + at;
  }
  template <std::input_iterator It>
  iterator insert(const_iterator position, It first, It last) {
    const size_t at = position - data_;
    const SmallVector values(first, last);  // (the range may lie in this vector)
    open_gap(at, values.size());
    std::copy(values.begin(), values.end(), data_ + at);
    return data_ + at;
  }
  iterator insert(const_iterator position, std::initializer_list<T> values) {
    return insert(position, values.begin(), values.end());
  }
  iterator erase(const_iterator position) { return erase(position, position + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const size_t at = first - data_, n = last - first;
    std::copy(data_ + at + n, data_ + size_, data_ + at);
    size_ -= n;
    return data_ + at;
  }
  void swap(SmallVector& other) noexcept {
    SmallVector held(std::move(other));
    other = std::move(*this);
    *this = std::move(held);
  }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator==(const SmallVector& a, const std::vector<T>& b) {
    return a.size_ == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  friend auto operator<=>(const SmallVector& a, const SmallVector& b) {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  void open_gap(size_t at, size_t n) {
    reserve(size_ + n);
    std::copy_backward(data_ + at, data_ + size_, data_ + size_ + n);
    size_ += n;
  }
  void release() {
    if (data_ != local_) std::free(data_);
    data_ = local_;
    capacity_ = N;
    size_ = 0;
  }
  // Moves other's elements here (this holds none) and leaves other empty.
  void take(SmallVector& other) {
    if (other.data_ == other.local_) {
      std::memcpy(local_, other.local_, other.size_ * sizeof(T));
      data_ = local_;
      capacity_ = N;
    } else {
      data_ = other.data_;
      capacity_ = other.capacity_;
      other.data_ = other.local_;
      other.capacity_ = N;
    }
    size_ = other.size_;
    other.size_ = 0;
  }

  T* data_ = local_;
  size_t size_ = 0;
  size_t capacity_ = N;
  T local_[N];
};

}  // namespace hypatia
