#pragma once
// Access to the compact encoding an entry owns as one raw pointer (a Listpack or an Intset, each of which
// is a single owning pointer with release()/from_raw()): a view to read it without taking it, and a borrow
// to change it that gives the (possibly moved) buffer back to the entry when done.
#include "store/entry.h"

namespace rc {

template <typename Blob>
class BlobView {
 public:
  explicit BlobView(const void* raw) : blob_(Blob::from_raw(const_cast<void*>(raw))) {}
  explicit BlobView(const Entry& entry) : BlobView(entry.aggregate()) {}
  ~BlobView() { blob_.release(); }
  BlobView(const BlobView&) = delete;
  BlobView& operator=(const BlobView&) = delete;
  const Blob& operator*() const { return blob_; }
  const Blob* operator->() const { return &blob_; }

 private:
  Blob blob_;
};

template <typename Blob>
class BorrowedBlob {
 public:
  explicit BorrowedBlob(Entry& entry) : entry_(entry), blob_(Blob::from_raw(entry.aggregate())) {}
  ~BorrowedBlob() { entry_.set_aggregate(blob_.release(), AggregateEncoding::Compact); }
  BorrowedBlob(const BorrowedBlob&) = delete;
  BorrowedBlob& operator=(const BorrowedBlob&) = delete;
  Blob& operator*() { return blob_; }
  Blob* operator->() { return &blob_; }

 private:
  Entry& entry_;
  Blob blob_;
};

}  // namespace rc
