//! Events as they arrive. [`kafka`] consumes topics that shippers (Winlogbeat, NXLog) write
//! to and hands their records to the lake in batches, each with the positions it brings
//! its partitions to, so that the lake commits records and positions together.

pub mod kafka;
