//! A ratatui `TestBackend` a test can read while the explorer's real loop
//! draws on it (the flow, bookmark and fault-matrix tests drive the loop
//! through this).

use std::sync::{Arc, Mutex, MutexGuard};

use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

/// The screen, shared between the explorer (drawing) and the test.
#[derive(Clone)]
pub struct Shared(pub Arc<Mutex<TestBackend>>);

impl Shared {
    pub fn new(cols: u16, rows: u16) -> Shared {
        Shared(Arc::new(Mutex::new(TestBackend::new(cols, rows))))
    }

    pub fn lock(&self) -> MutexGuard<'_, TestBackend> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The screen as text, one quoted line per row.
    pub fn screen(&self) -> String {
        self.lock().to_string()
    }
}

impl Backend for Shared {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.lock().draw(content)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.lock().hide_cursor()
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.lock().show_cursor()
    }

    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.lock().get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(
        &mut self,
        position: P,
    ) -> Result<(), Self::Error> {
        self.lock().set_cursor_position(position)
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.lock().clear()
    }

    fn clear_region(
        &mut self,
        clear_type: ClearType,
    ) -> Result<(), Self::Error> {
        self.lock().clear_region(clear_type)
    }

    fn size(&self) -> Result<Size, Self::Error> {
        self.lock().size()
    }

    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.lock().window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.lock().flush()
    }
}
