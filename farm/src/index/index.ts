export type { IndexPublisher, PublishedFile, PublishOutcome, WheelToPublish } from './publisher.ts';
export { LocalDirPublisher } from './local-dir-publisher.ts';
export type { LocalDirPublisherOptions } from './local-dir-publisher.ts';
export { renderProjectPage, renderRootPage } from './render-simple-page.ts';
export type { SimplePageFile, SimpleProject } from './render-simple-page.ts';
