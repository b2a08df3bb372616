//! The level catalog: every level file loaded and validated once at start.
//! Invariant: levels are immutable while the server runs; rooms share them by `Arc`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use stampede_sim::Level;

/// Levels by id, in id order.
#[derive(Debug, Default)]
pub struct Catalog {
    levels: BTreeMap<String, Arc<Level>>,
    /// SHA-256 of each level's file, hex: receipts name the exact file they were played on.
    hashes: BTreeMap<String, String>,
}

/// A level file that did not load.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The directory or a file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// Which path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file did not validate.
    #[error(transparent)]
    Level(#[from] stampede_sim::LevelError),
    /// Two files share an id.
    #[error("two level files have the id `{0}`")]
    Duplicate(String),
}

impl Catalog {
    /// Loads every `*.toml` in `dir`, in file-name order.
    ///
    /// # Errors
    /// The first file that cannot be read or does not validate.
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CatalogError + '_ {
            move |source| CatalogError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut levels = BTreeMap::new();
        let mut hashes = BTreeMap::new();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let level = Level::from_toml(&path.display().to_string(), &text)?;
            if levels.contains_key(&level.id) {
                return Err(CatalogError::Duplicate(level.id));
            }
            hashes.insert(level.id.clone(), crate::receipt::level_hash(&text));
            levels.insert(level.id.clone(), Arc::new(level));
        }
        Ok(Self { levels, hashes })
    }

    /// A level by id.
    pub fn get(&self, id: &str) -> Option<Arc<Level>> {
        self.levels.get(id).cloned()
    }

    /// The SHA-256 (hex) of a level's file.
    pub fn hash(&self, id: &str) -> Option<&str> {
        self.hashes.get(id).map(String::as_str)
    }

    /// Every level, in id order.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Level>> {
        self.levels.values()
    }
}
